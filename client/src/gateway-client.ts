import { type Observable, Subject, takeUntil } from 'rxjs';
import type { HistoryMessage, RegisterAckPayload, ResumeAckPayload, ServerEnvelope } from '@agent-gateway/protocol';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  type GatewayClientOptions,
  type InterruptOptions,
  type RequestOptions,
  type ResumePoint,
} from './client-options.js';
import { type ConnectionStatus, SessionLink } from './connection/session-link.js';
import type { Inbound } from './connection/socket-connection.js';
import { ClientClosedError, SessionLostError } from './errors.js';
import { FunctionRunner } from './function-runner.js';
import { ReplayCursor } from './replay-cursor.js';
import { AnswerWaiters } from './replies/answer-waiters.js';
import type { InterruptOutcome, Reply } from './replies/reply.js';
import { type InterruptReport, Interrupts } from './replies/interrupts.js';
import { ReplyBook } from './replies/reply-book.js';
import { binaryAudioFrame, responseFrame } from './replies/reply-frame.js';
import { newRequestId } from './request-id.js';

/**
 * A client of the gateway's WebSocket protocol, for browsers and Node. It
 * registers, keeps the connection alive, reconnects and resumes the session
 * (frames after the last one it saw are replayed), streams replies, and
 * interrupts optimistically: the moment interrupt() is called the reply's
 * frames stop and its audio is silenced; the ACK only confirms.
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

  private readonly cursor = new ReplayCursor();
  private readonly link: SessionLink;
  private readonly replies: ReplyBook;
  private readonly answers: AnswerWaiters;
  private readonly interrupts: Interrupts;
  private readonly functions: FunctionRunner;

  constructor(options: GatewayClientOptions) {
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
      case 'RESPONSE':
        this.replies.deliver(responseFrame(envelope.payload));
        return;
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
      case 'HISTORY':
      case 'RESET_ACK':
        this.answers.answer(envelope);
        return;
      case 'HEARTBEAT':
        return; // the link's heartbeat watches its socket for it
    }
  }

  private resumed(ack: ResumeAckPayload): void {
    const { unheard, suspects } = this.replies.resumed(ack.active_request_ids);
    this.interrupts.repeat(unheard);
    // After the replay, replies that were running here and got no end in it are lost.
    this.cursor.awaitReplay(ack.last_seq, () => this.replies.lose(suspects));
  }
}
