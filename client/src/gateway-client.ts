import { type Observable, Subject, takeUntil } from 'rxjs';
import type {
  HistoryMessage,
  InterruptAckPayload,
  PlaybackPausePayload,
  PlaybackResumePayload,
  RegisterAckPayload,
  ResumeAckPayload,
  ServerEnvelope,
  SpeechStartedPayload,
  SpeechStoppedPayload,
  TranscriptPayload,
} from '@agent-gateway/protocol';
import type { CaptureFormat } from './audio/audio-source.js';
import { Microphone } from './audio/microphone.js';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  type GatewayClientOptions,
  type InterruptOptions,
  type RequestOptions,
  type ResumePoint,
  type UtteranceOptions,
} from './client-options.js';
import { DEFAULT_INPUT_SAMPLE_RATE } from './connection/link-options.js';
import { type ConnectionStatus, SessionLink } from './connection/session-link.js';
import type { Inbound } from './connection/socket-connection.js';
import { ClientClosedError, SessionLostError, VoiceInputUnavailableError } from './errors.js';
import { FunctionRunner } from './function-runner.js';
import { ReplayCursor } from './replay-cursor.js';
import { AnswerWaiters } from './replies/answer-waiters.js';
import type { InterruptOutcome, Reply } from './replies/reply.js';
import { type InterruptReport, Interrupts } from './replies/interrupts.js';
import { ReplyBook } from './replies/reply-book.js';
import { binaryAudioFrame, responseFrame } from './replies/reply-frame.js';
import { newRequestId } from './request-id.js';
import { AudioUplink } from './voice/audio-uplink.js';
import { HandsFree } from './voice/hands-free.js';
import { Utterance } from './voice/utterance.js';
import { type SpokenReply, VoiceEvents } from './voice/voice-events.js';

/**
 * A client of the gateway's WebSocket protocol, for browsers and Node. It
 * registers, keeps the connection alive, reconnects and resumes the session
 * (frames after the last one it saw are replayed), streams replies, and
 * interrupts optimistically: the moment interrupt() is called the reply's
 * frames stop and its audio is silenced; the ACK only confirms.
 *
 * With `audioInput` it also takes the user's voice: hands-free
 * (startMicrophone(): the gateway hears the turns and barge-ins in the
 * stream, pauses the reply the user speaks over and resumes it if that was
 * no interruption) or push-to-talk (beginUtterance()).
 */
export class GatewayClient {
  /** idle → connecting → open ⇄ reconnecting → closed */
  readonly status$: Observable<ConnectionStatus>;
  private readonly envelopes = new Subject<ServerEnvelope>();
  /** Every envelope from the gateway (replayed duplicates excepted), after the client has handled it. */
  readonly messages$: Observable<ServerEnvelope> = this.envelopes.asObservable();
  private readonly sessionsSubject = new Subject<RegisterAckPayload>();
  /** Each new session: the first REGISTER_ACK, and a new one after a session was lost. */
  readonly sessions$: Observable<RegisterAckPayload> = this.sessionsSubject.asObservable();
  /** Replies to requests this client did not send: running when it resumed the session (a reloaded page), or sent by another socket of it. */
  readonly adopted$: Observable<Reply>;
  /** Every INTERRUPT, once acknowledged (with the ACK's latency) or failed. */
  readonly interrupts$: Observable<InterruptReport>;
  /** Replies the gateway stopped without this client asking: the user spoke over them (reason USER_SPEECH), or another socket of the session stopped them. */
  readonly gatewayInterrupts$: Observable<InterruptAckPayload>;
  /** The gateway hears the user start speaking (hands-free). */
  readonly speechStarted$: Observable<SpeechStartedPayload>;
  /** … and stop. */
  readonly speechStopped$: Observable<SpeechStoppedPayload>;
  /** What the user said: interim texts, then the final one (with the request it starts, if it starts one). */
  readonly transcripts$: Observable<TranscriptPayload>;
  /** The user started speaking over these replies: their audio is paused (and where it paused reported to the gateway). */
  readonly playbackPaused$: Observable<PlaybackPausePayload>;
  /** It was no interruption (too short, a backchannel, an echo): the paused audio plays on from where it paused. */
  readonly playbackResumed$: Observable<PlaybackResumePayload>;
  /** Requests the gateway started from what the user said hands-free, with the final transcript that announced each. */
  readonly spokenReplies$: Observable<SpokenReply>;
  /** True while the microphone is open and streaming (startMicrophone() → stopMicrophone()). */
  readonly listening$: Observable<boolean>;

  private readonly cursor = new ReplayCursor();
  private readonly link: SessionLink;
  private readonly replies: ReplyBook;
  private readonly answers: AnswerWaiters;
  private readonly interrupts: Interrupts;
  private readonly functions: FunctionRunner;
  private readonly voice: VoiceEvents;
  private readonly uplink: AudioUplink;
  private readonly handsFree: HandsFree;

  constructor(private readonly options: GatewayClientOptions) {
    const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.link = new SessionLink(options, ackTimeoutMs, {
      received: (message) => this.route(message),
      lastSeq: () => this.cursor.lastSeq,
      sessionLost: (sessionId) => {
        this.cursor.restart();
        this.replies.dropAll(new SessionLostError(sessionId));
      },
      closed: (error) => this.replies.dropAll(error),
    });
    this.status$ = this.link.status$;
    this.replies = new ReplyBook(
      {
        interrupt: (requestId, reason) => this.interrupt(requestId, { reason }),
        settled: (requestId) => this.functions.abortFor(requestId),
      },
      options.player,
    );
    this.adopted$ = this.replies.adopted$;
    this.answers = new AnswerWaiters(ackTimeoutMs, this.link.closing$);
    this.interrupts = new Interrupts(this.replies, this.answers, (payload) => this.link.send('INTERRUPT', payload, { urgent: true }));
    this.interrupts$ = this.interrupts.reports$;
    this.gatewayInterrupts$ = this.interrupts.byGateway$;
    this.voice = new VoiceEvents(options.player, {
      openSpoken: (requestId) => this.replies.openSpoken(requestId),
      report: (report) => this.link.sendIfOpen('PLAYBACK', report),
    });
    this.speechStarted$ = this.voice.speechStarted$;
    this.speechStopped$ = this.voice.speechStopped$;
    this.transcripts$ = this.voice.transcripts$;
    this.playbackPaused$ = this.voice.playbackPaused$;
    this.playbackResumed$ = this.voice.playbackResumed$;
    this.spokenReplies$ = this.voice.spokenReplies$;
    this.uplink = new AudioUplink(this.link, options.audioTransport ?? 'binary');
    this.handsFree = new HandsFree((pcm) => this.uplink.stream(pcm));
    this.listening$ = this.handsFree.listening$;
    this.functions = new FunctionRunner(options.functions, (result) => this.link.send('FUNCTION_RESULT', result), this.link.closing$);
    // Advice, not state: one lost while offline is superseded by the next.
    options.player?.played$.pipe(takeUntil(this.link.closing$)).subscribe((report) => this.link.sendIfOpen('PLAYBACK', report));
  }

  get status(): ConnectionStatus {
    return this.link.status;
  }

  get registerAck(): RegisterAckPayload | undefined {
    return this.link.session;
  }

  get sessionId(): string | undefined {
    return this.link.session?.session_id;
  }

  /** The number of the last frame received (RESUME asks for those after it). */
  get lastSeq(): number {
    return this.cursor.lastSeq;
  }

  /** What to keep to resume this session after a reload (with `lastSeq` as it is now, or an earlier one to see more again). */
  resumePoint(lastSeq = this.cursor.lastSeq): ResumePoint | undefined {
    const registerAck = this.link.session;
    return registerAck && { registerAck, lastSeq };
  }

  /**
   * Connects and registers, or, given a resume point, resumes that session
   * (registering a new one if the gateway no longer knows it). From then on
   * the client reconnects by itself until close().
   */
  async connect(resume?: ResumePoint): Promise<RegisterAckPayload> {
    if (this.status !== 'idle') throw new Error('connect() is called once per client');
    if (resume) this.cursor.restart(resume.lastSeq);
    return this.link.connect(resume?.registerAck);
  }

  /** Sends a REQUEST. Its reply streams as an Observable and an async iterable (see Reply). */
  request(text: string, options: RequestOptions = {}): Reply {
    const requestId = options.requestId ?? newRequestId();
    const channel = this.replies.open(requestId);
    if (this.status === 'closed') {
      this.replies.drop(channel, new ClientClosedError());
      return channel.reply;
    }
    this.link.send(
      'REQUEST',
      {
        request_id: requestId,
        data_type: 'TEXT',
        content: { text },
        ...(options.speak !== undefined && { require_tts: options.speak }),
        ...(options.durable !== undefined && { durable: options.durable }),
      },
      { onSent: () => (channel.sent = true) },
    );
    return channel.reply;
  }

  /**
   * A new user turn that barges in: every reply still running is interrupted
   * (USER_NEW_INPUT, each with where its audio stopped), then the request is
   * sent. How the interrupts went is told on `interrupts$`.
   */
  ask(text: string, options: RequestOptions = {}): Reply {
    // How it went is reported on interrupts$; nobody awaits this promise.
    this.interruptAll('USER_NEW_INPUT').catch(() => undefined);
    return this.request(text, options);
  }

  /**
   * Interrupts every reply still running, one INTERRUPT each, so that each
   * carries where its own audio stopped (an INTERRUPT without an id cannot).
   */
  interruptAll(reason = 'USER_INTERRUPT'): Promise<InterruptOutcome[]> {
    return this.interrupts.all(reason);
  }

  /**
   * Stops a request (all of this session's without an id, or per `scope`).
   * Optimistic: its frames are dropped and its audio silenced right now; the
   * promise resolves with the gateway's ACK and its latency, or rejects with
   * AckTimeoutError.
   */
  interrupt(requestId?: string, options: InterruptOptions = {}): Promise<InterruptOutcome> {
    return this.interrupts.interrupt(requestId, options);
  }

  /**
   * Hands-free: opens the microphone (`microphone`, by default the
   * browser's) and streams it to the gateway, which finds the user's turns
   * in it, replies to each (spokenReplies$), and pauses a reply the user
   * speaks over. Call it after connect(), in a user gesture; it rejects with
   * VoiceInputUnavailableError when the session takes no hands-free voice,
   * or with the device's error (permission refused…).
   */
  async startMicrophone(): Promise<void> {
    if (this.status === 'closed') throw new ClientClosedError();
    const refusal = this.handsFreeRefusal();
    if (refusal !== undefined) throw new VoiceInputUnavailableError(refusal);
    await this.handsFree.start(this.options.microphone ?? new Microphone(), this.audioInputFormat);
  }

  /** Closes the microphone and releases the device. */
  stopMicrophone(): void {
    this.handsFree.stop();
  }

  /** The PCM the session takes (REGISTER_ACK's, else what REGISTER asked for): what to capture push-to-talk audio in. */
  get audioInputFormat(): CaptureFormat {
    return (
      this.link.session?.audio_input?.audio_format ?? {
        codec: 'pcm_s16le',
        sample_rate: this.options.audioInput?.sampleRate ?? DEFAULT_INPUT_SAMPLE_RATE,
        channels: 1,
      }
    );
  }

  /** The microphone is open and streaming. */
  get listening(): boolean {
    return this.handsFree.listening;
  }

  /**
   * Push-to-talk: starts a turn of the user's voice, a REQUEST of audio
   * (START now, then push() its PCM as it is captured, end() when the user
   * lets go). Its reply is that of a text request; by default the replies
   * still running are interrupted first (USER_NEW_INPUT).
   */
  beginUtterance(options: UtteranceOptions = {}): Utterance {
    if (options.bargeIn ?? true) this.interruptAll('USER_NEW_INPUT').catch(() => undefined);
    const requestId = options.requestId ?? newRequestId();
    const channel = this.replies.open(requestId);
    const utterance = new Utterance(channel.reply, this.uplink);
    if (this.status === 'closed') {
      this.replies.drop(channel, new ClientClosedError());
      return utterance;
    }
    this.uplink.start({ requestId, speak: options.speak, durable: options.durable, format: options.format }, () => (channel.sent = true));
    return utterance;
  }

  /** The session's conversation history (interrupted turns marked, cut where the user stopped listening). */
  async history(): Promise<HistoryMessage[]> {
    const answer = this.answers.wait('HISTORY');
    this.link.send('HISTORY', {});
    return (await answer).messages;
  }

  /** Clears the history; resolves with how many messages it removed. */
  async reset(): Promise<number> {
    const answer = this.answers.wait('RESET_ACK');
    this.link.send('RESET', {});
    return (await answer).cleared;
  }

  /** Closes the connection for good: whatever is pending fails with ClientClosedError. */
  close(): void {
    this.handsFree.stop();
    this.link.close();
  }

  private route(message: Inbound): void {
    if (message.kind === 'audio') {
      this.cursor.receive(message.frame.seq, () => {
        const format = this.link.session?.tts.audio_format;
        // Binary audio only comes to sessions whose REGISTER_ACK announced its format.
        if (format) this.replies.deliver(binaryAudioFrame(message.frame, format));
      });
      return;
    }
    const { envelope } = message;
    this.cursor.receive(envelope.seq, () => {
      this.handle(envelope);
      this.envelopes.next(envelope);
    });
  }

  private handle(envelope: ServerEnvelope): void {
    switch (envelope.msg_type) {
      case 'REGISTER_ACK':
        this.link.registered(envelope.payload);
        this.cursor.restart();
        this.sessionsSubject.next(envelope.payload);
        return;
      case 'RESUME_ACK':
        this.resumed(envelope.payload);
        return;
      case 'RESPONSE': {
        const frame = responseFrame(envelope.payload);
        this.replies.deliver(frame);
        if (frame.kind === 'end') this.voice.ended(frame.end);
        return;
      }
      case 'TOOL_STATUS':
        this.replies.deliver({ kind: 'tool', requestId: envelope.payload.request_id, status: envelope.payload });
        return;
      case 'FUNCTION_CALL':
        this.functions.run(envelope.payload);
        return;
      case 'FUNCTION_CANCEL':
        this.functions.cancel(envelope.payload.call_id);
        return;
      case 'ERROR':
        this.replies.failed(envelope.payload);
        return;
      case 'SERVER_SHUTDOWN':
        this.link.retryAfter(envelope.payload.retry_after_ms);
        return;
      case 'INTERRUPT_ACK':
        if (!this.answers.answer(envelope)) this.interrupts.stoppedByGateway(envelope.payload);
        return;
      case 'HISTORY':
      case 'RESET_ACK':
        this.answers.answer(envelope);
        return;
      case 'SPEECH_STARTED':
      case 'SPEECH_STOPPED':
      case 'TRANSCRIPT':
      case 'PLAYBACK_PAUSE':
      case 'PLAYBACK_RESUME':
        this.voice.handle(envelope);
        return;
      case 'HEARTBEAT':
        return; // the link's heartbeat watches its socket for it
    }
  }

  /** Why this session cannot stream a microphone, as REGISTER_ACK tells it; undefined when it can. */
  private handsFreeRefusal(): string | undefined {
    const session = this.link.session;
    if (!session) return 'not connected: call connect() first';
    const input = session.audio_input;
    if (!input) return this.options.audioInput ? 'the gateway does not take voice input' : 'no audioInput option';
    if (!input.enabled) return input.reason ?? 'the gateway turned it off';
    if (input.turn_detection === 'manual') return 'the session is push-to-talk (turnDetection manual)';
    return undefined;
  }

  private resumed(ack: ResumeAckPayload): void {
    const { unheard, suspects } = this.replies.resumed(ack.active_request_ids);
    this.interrupts.repeat(unheard);
    // After the replay, replies that were running here and got no end in it are lost.
    this.cursor.awaitReplay(ack.last_seq, () => this.replies.lose(suspects));
  }
}
