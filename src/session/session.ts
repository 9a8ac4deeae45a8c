import type { ParsedClientPayloads, ServerMsgType, ServerPayloads, ToolDefinition } from '@agent-gateway/protocol';
import type { Identity } from '../auth/api-key.service.js';
import type { GatewayError } from '../common/gateway-error.js';
import type { ClientToolChannel } from '../tools/client-tool-channel.js';
import { PendingFunctionCalls } from '../tools/pending-function-calls.js';
import { SpeechLedgers } from '../tts/speech-ledgers.js';
import type { FlowControl } from '../tts/tts-provider.js';
import { EventLog, type EventLogLimits } from './event-log.js';
import type { ForwardedFrame } from './forwarded-frame.js';
import { audioFrame, type FrameTag, jsonFrame, type OutboundFrame, type QueuedRequest } from './outbound-frame.js';
import { type DroppedFrames, type Lane, type OutboundLimits, OutboundQueue, type QueueOwner, type QueueSink } from './outbound-queue.js';
import { RemoteRequests } from './remote-requests.js';
import type { SessionLogMirror } from './session-log-mirror.js';

type FunctionResult = ParsedClientPayloads['FUNCTION_RESULT'];
export type AudioInputPrefs = NonNullable<ParsedClientPayloads['REGISTER']['audio_input']>;

export interface SessionPrefs {
  platform: string;
  /** The default for REQUESTs that do not say. */
  requireTts: boolean;
  audioTransport: 'json' | 'binary';
  /** Functions the client runs (REGISTER function_calling), by name. */
  clientTools: ReadonlyMap<string, ToolDefinition>;
  /** The default for REQUESTs that do not say: keep running when the last socket closes. */
  durable: boolean;
  /** Voice input, as REGISTER asked for it. */
  audioInput?: AudioInputPrefs;
}

/** A socket of a session, as the session sees it (the gateway's Connection is one). */
export interface Sink extends QueueSink {
  /** It now belongs to `session`: its messages are that session's. */
  attach(session: Session): void;
  /** A frame for this socket only (no sequence number, not replayed). */
  sendDirect<T extends ServerMsgType>(type: T, payload: ServerPayloads[T]): void;
  /** Ends the socket with an ERROR saying why. */
  fail(error: GatewayError): void;
}

export interface SendOptions extends FrameTag {
  lane: Lane;
}

export interface SessionLimits {
  outbound: OutboundLimits;
  log: EventLogLimits;
}

export interface SessionOptions {
  /** The number of the last frame already sent (a session taken over from another instance goes on from there). */
  lastSeq?: number;
  /** Gets every frame as it is numbered and logged (the Redis log). */
  mirror?: SessionLogMirror;
}

/** Sockets of `session` too slow to keep up, which it drops: one function for every session. */
export type SlowSinks = (session: Session, sinks: Sink[]) => void;

/**
 * A client's session: who it is, what it asked for, and where its frames go.
 * It may have several sockets (tabs), or none for a while (a refresh, a REST
 * task): frames are numbered, logged and sent to every socket attached.
 */
export class Session implements QueueOwner<Sink> {
  readonly createdAt = Date.now();
  /** Its sockets, and what waits for them. */
  private readonly queue: OutboundQueue<Sink>;
  // Created on first use: an idle session should cost as little as possible.
  private eventLog?: EventLog;
  private speechLedgers?: SpeechLedgers;
  private pendingCalls?: PendingFunctionCalls;
  private remoteRequests?: RemoteRequests;
  /** Set once the session has moved to another instance: frames of what still runs here go there, unnumbered. */
  private outlet?: (frame: ForwardedFrame) => void;
  private readonly mirror?: SessionLogMirror;
  /** The number of the last frame sent until the log is made, which numbers on from it. */
  private readonly firstSeq: number;

  constructor(
    readonly id: string,
    readonly identity: Identity,
    readonly prefs: SessionPrefs,
    private readonly limits: SessionLimits,
    private readonly onSlowSinks: SlowSinks,
    options: SessionOptions = {},
  ) {
    this.mirror = options.mirror;
    this.firstSeq = options.lastSeq ?? 0;
    this.queue = new OutboundQueue(limits.outbound, this);
  }

  /** The frames sent, and the number of the latest. */
  get log(): EventLog {
    return (this.eventLog ??= new EventLog(this.limits.log, this.firstSeq));
  }

  get userId(): string {
    return this.identity.userId;
  }

  get connectionCount(): number {
    return this.queue.sinkList.length;
  }

  /** From now on the session's frames go to `sink` too (the sink was told it belongs here: `sink.attach`). */
  attach(sink: Sink): void {
    this.queue.addSink(sink);
  }

  /** Returns how many sockets are left, or undefined when `sink` was not attached (any more). */
  detach(sink: Sink): number | undefined {
    return this.queue.removeSink(sink) ? this.queue.sinkList.length : undefined;
  }

  /** Detaches every socket; returns them. */
  detachAll(): readonly Sink[] {
    const sinks = this.queue.sinkList;
    for (const sink of sinks) this.detach(sink);
    return sinks;
  }

  /** What each audio frame of the recent requests spoke, and how far the client played it. */
  get speech(): SpeechLedgers {
    return (this.speechLedgers ??= new SpeechLedgers());
  }

  /** FUNCTION_CALLs waiting for the client's FUNCTION_RESULT. */
  get functionCalls(): PendingFunctionCalls {
    return (this.pendingCalls ??= new PendingFunctionCalls());
  }

  /** Requests of this session that run on other instances (it moved here while they ran). */
  get remote(): RemoteRequests {
    return (this.remoteRequests ??= new RemoteRequests((frame, request) => this.applyForwarded(frame, request)));
  }

  get forwarded(): boolean {
    return this.outlet !== undefined;
  }

  /**
   * The session has moved to another instance: what still runs here sends its
   * frames through `outlet`, to be numbered there.
   */
  forwardTo(outlet: (frame: ForwardedFrame) => void): void {
    this.outlet = outlet;
  }

  /**
   * The session comes back from another instance, which numbered frames up to
   * `lastSeq` meanwhile: numbering goes on from there, and the local log starts
   * over (those frames are only in the shared log).
   */
  reclaim(lastSeq: number): void {
    this.outlet = undefined;
    this.log.restart(lastSeq);
  }

  /** Numbers and logs whatever is queued, now (with no socket attached, it only goes to the log). */
  flushToLog(): void {
    this.queue.flushNow();
  }

  /** Backpressure from the slowest socket, for speech synthesis. */
  get flow(): FlowControl {
    return { paused$: this.queue.paused$ };
  }

  send<T extends ServerMsgType>(type: T, payload: ServerPayloads[T], options: SendOptions): void {
    if (this.outlet) {
      const { lane, request, content } = options;
      this.outlet({ session_id: this.id, lane, request_key: request?.handle, content, json: { type, payload } });
      return;
    }
    this.queue.push(jsonFrame(type, payload, this.id, options), options.lane);
  }

  sendAudio(request: QueuedRequest, voiceStreamSeq: number, audio: Uint8Array): void {
    if (this.outlet) {
      const base64 = Buffer.from(audio.buffer, audio.byteOffset, audio.length).toString('base64');
      this.outlet({
        session_id: this.id,
        request_key: request.handle,
        audio: { request_id: request.id, voice_stream_seq: voiceStreamSeq, base64 },
      });
      return;
    }
    this.queue.push(audioFrame(request, voiceStreamSeq, audio), 'audio');
  }

  /** Unsent frames of an interrupted request are dropped, not flushed (nor logged); see OutboundQueue. */
  dropRequest(request: QueuedRequest, only?: 'audio'): DroppedFrames {
    return this.queue.dropRequest(request, only);
  }

  /** The user speaks over this request: its audio waits here, in order, until released or dropped (barge-in). */
  holdAudio(request: QueuedRequest): void {
    this.queue.hold(request);
  }

  releaseAudio(request: QueuedRequest): void {
    this.queue.release(request);
  }

  /** Requests (running or ended) whose audio still waits for a slow client. */
  requestsWithQueuedAudio(): Set<QueuedRequest> {
    return this.queue.requestsWithQueuedAudio();
  }

  /** A FUNCTION_RESULT for one of this session's pending calls; false when the call is not pending (cancelled, answered, unknown). */
  functionResult(payload: FunctionResult): boolean {
    const outcome =
      payload.error !== undefined ? { ok: false as const, error: payload.error } : { ok: true as const, result: payload.result ?? null };
    return this.functionCalls.settle(payload.request_id, payload.call_id, outcome);
  }

  /** The client's functions, for one of its requests. */
  clientToolChannel(request: QueuedRequest): ClientToolChannel {
    const ids = { request_id: request.id };
    return {
      clientTools: this.prefs.clientTools,
      call: (call) =>
        this.functionCalls.wait(request.id, call.id, () =>
          this.send(
            'FUNCTION_CALL',
            { ...ids, call_id: call.id, name: call.function.name, arguments: call.function.arguments },
            { lane: 'text', request },
          ),
        ),
      // The text lane, as the FUNCTION_CALL: a cancel never overtakes its call. Not
      // tagged with the request: an interrupt later on must not drop it.
      withdraw: (callId) => this.send('FUNCTION_CANCEL', { ...ids, call_id: callId }, { lane: 'text' }),
    };
  }

  /** The session is over: nothing more is sent. */
  close(): void {
    this.queue.close();
    this.log.close();
  }

  /** For its queue, as a frame leaves: the frame gets its number and goes into the log. */
  deliver(frame: OutboundFrame): string | Uint8Array {
    const seq = this.log.lastSeq + 1;
    const data = frame.render(seq);
    const logged = this.log.append(seq, data, frame.size);
    this.mirror?.append(this.id, logged);
    return data;
  }

  /** For its queue: the sockets too slow to keep up. */
  overflowed(sinks: Sink[]): void {
    this.onSlowSinks(this, sinks);
  }

  /** A frame of a request running on another instance (`request` stands for it here), numbered and sent here. */
  private applyForwarded(frame: ForwardedFrame, request: QueuedRequest | undefined): void {
    if ('audio' in frame) {
      if (request) this.sendAudio(request, frame.audio.voice_stream_seq, Buffer.from(frame.audio.base64, 'base64'));
      return;
    }
    const { type, payload } = frame.json;
    // Built by the owner against the same types.
    this.send(type, payload as ServerPayloads[typeof type], { lane: frame.lane, request, content: frame.content });
  }
}
