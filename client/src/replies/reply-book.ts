import { type Observable, Subject } from 'rxjs';
import type { ErrorCode, ErrorPayload } from '@agent-gateway/protocol';
import type { AudioSink, PlayedPosition } from '../audio/audio-sink.js';
import { GatewayError, ReplyLostError } from '../errors.js';
import type { InterruptOutcome, Reply, ReplyOrigin } from './reply.js';
import { ReplyChannel } from './reply-channel.js';
import type { ReplyFrame } from './reply-frame.js';

/** ERRORs about a request that refuse it: nothing else will come for it. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(['INVALID_MESSAGE', 'DUPLICATE_REQUEST', 'TOO_MANY_REQUESTS', 'UNSUPPORTED_DATA_TYPE']);

export interface ReplyBookHooks {
  /** What Reply.interrupt() does. */
  interrupt(requestId: string, reason: string): Promise<InterruptOutcome>;
  /** Nothing more is wanted for the request (it is over, or the user stopped it): its client functions are aborted. */
  settled(requestId: string): void;
}

/**
 * The replies open on this client, by request id, and the frames routed to
 * them. A frame for a request the client does not know is a reply it adopts:
 * one that was running when it resumed the session, or that another socket
 * of the session sent. A request the gateway started from the user's speech
 * is opened when its final transcript announces it.
 */
export class ReplyBook {
  private readonly channels = new Map<string, ReplyChannel>();
  private readonly adoptedSubject = new Subject<Reply>();
  readonly adopted$: Observable<Reply> = this.adoptedSubject.asObservable();

  constructor(
    private readonly hooks: ReplyBookHooks,
    private readonly player?: AudioSink,
  ) {}

  /** The reply to a request this client is about to send. */
  open(requestId: string): ReplyChannel {
    if (this.channels.has(requestId)) throw new Error(`Request ${requestId} is still running`);
    return this.add(requestId, 'client');
  }

  /** The reply to a request the gateway started from the user's speech; undefined when the client knows it already (its own utterance). */
  openSpoken(requestId: string): Reply | undefined {
    if (this.channels.has(requestId)) return undefined;
    const channel = this.add(requestId, 'speech');
    channel.sent = true;
    return channel.reply;
  }

  deliver(frame: ReplyFrame): void {
    const channel = this.channels.get(frame.requestId) ?? this.adopt(frame.requestId);
    if (!channel.push(frame)) return;
    if (frame.kind === 'audio') this.player?.play(frame.requestId, frame.chunk);
    if (frame.kind === 'end') this.release(channel);
  }

  /** An ERROR about a request: a refusal fails its reply, anything else is one of its frames. */
  failed(error: ErrorPayload): void {
    const channel = error.request_id === undefined ? undefined : this.channels.get(error.request_id);
    if (!channel) return; // about nothing this client waits for; messages$ shows it
    if (channel.received === 0 && REFUSALS.has(error.code)) this.drop(channel, new GatewayError(error));
    else channel.push({ kind: 'error', requestId: channel.requestId, error });
  }

  /** The requests running that the user has not stopped. */
  unstopped(): string[] {
    return [...this.channels.values()].filter((c) => !c.interrupted).map((c) => c.requestId);
  }

  /**
   * Stops one request's reply (`requestId`), or all of them, here and now,
   * before the gateway has heard of it. Returns the requests stopped and, for
   * one, where its audio stopped, which the INTERRUPT tells the gateway.
   */
  stop(requestId: string | undefined, reason: string): { stopped: string[]; playedUntil?: PlayedPosition } {
    const targets = requestId === undefined ? [...this.channels.values()] : [this.channels.get(requestId)].filter((c) => c !== undefined);
    for (const channel of targets) {
      channel.interrupted = true;
      channel.interruptReason = reason;
      this.hooks.settled(channel.requestId);
    }
    const stopped = targets.map((c) => c.requestId);
    if (requestId !== undefined) return { stopped, playedUntil: this.player?.stop(requestId) };
    this.player?.stopAll();
    return { stopped };
  }

  /**
   * After RESUME, given the requests the gateway still runs: adopts those
   * this client did not know. Returns those the user stopped while the
   * gateway could not hear it, and the suspects: sent, not over, and no
   * longer running, so their end must come in the replay (see lose()).
   */
  resumed(active: readonly string[]): { unheard: ReplyChannel[]; suspects: ReplyChannel[] } {
    const running = new Set(active);
    const suspects = [...this.channels.values()].filter((c) => c.sent && !c.done && !running.has(c.requestId));
    const unheard: ReplyChannel[] = [];
    for (const id of active) {
      const channel = this.channels.get(id);
      if (!channel) this.adopt(id);
      else if (channel.interrupted) unheard.push(channel);
    }
    return { unheard, suspects };
  }

  /** The replay is through: a suspect whose end it did not bring was lost with the old connection. */
  lose(suspects: readonly ReplyChannel[]): void {
    for (const channel of suspects.filter((c) => !c.done)) this.drop(channel, new ReplyLostError(channel.requestId));
  }

  drop(channel: ReplyChannel, error: Error): void {
    this.release(channel);
    channel.fail(error);
  }

  dropAll(error: Error): void {
    for (const channel of [...this.channels.values()]) this.drop(channel, error);
  }

  private add(requestId: string, origin: ReplyOrigin): ReplyChannel {
    const channel = new ReplyChannel(requestId, (reason) => this.hooks.interrupt(requestId, reason), origin);
    this.channels.set(requestId, channel);
    return channel;
  }

  private adopt(requestId: string): ReplyChannel {
    const channel = this.add(requestId, 'adopted');
    channel.sent = true;
    this.adoptedSubject.next(channel.reply);
    return channel;
  }

  /** The reply is over: nothing more is routed to it. */
  private release(channel: ReplyChannel): void {
    if (this.channels.get(channel.requestId) === channel) this.channels.delete(channel.requestId);
    this.hooks.settled(channel.requestId);
  }
}
