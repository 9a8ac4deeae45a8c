import {
  BehaviorSubject,
  defer,
  filter,
  first,
  firstValueFrom,
  fromEvent,
  interval,
  map,
  type Observable,
  Subject,
  switchMap,
  exhaustMap,
  takeUntil,
  throwError,
  throwIfEmpty,
  timeout,
  timer,
  finalize,
} from 'rxjs';
import type { JsonValue } from '@agent-gateway/protocol';
import type { ClientMsgType, ClientPayloads } from '@agent-gateway/protocol';
import type { ErrorCode } from '@agent-gateway/protocol';
import type {
  ErrorPayload,
  FunctionCallPayload,
  HistoryMessage,
  RegisterAckPayload,
  ResumeAckPayload,
  ServerEnvelope,
  ServerMsgType,
  ServerPayloads,
} from '@agent-gateway/protocol';
import { AnswerWaiters } from './answer-waiters.js';
import type { PlayedPosition } from './audio/audio-sink.js';
import { backoffDelay } from './backoff.js';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_BACKOFF,
  type GatewayClientOptions,
  type InterruptOptions,
  type RequestOptions,
  type ResumePoint,
} from './client-options.js';
import { AckTimeoutError, ClientClosedError, ConnectionError, GatewayError, ReplyLostError, SessionLostError } from './errors.js';
import type { InterruptOutcome, Reply } from './reply.js';
import { ReplyChannel } from './reply-channel.js';
import { binaryAudioFrame, type ReplyFrame, responseFrame } from './reply-frame.js';
import { newRequestId } from './request-id.js';
import { type Inbound, SocketConnection } from './socket-connection.js';
import type { WebSocketFactory } from './web-socket-like.js';

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One INTERRUPT and what came of it, as `interrupts$` tells it. */
export type InterruptReport = {
  /** The request named, or null for all of them. */
  requestId: string | null;
  reason: string;
  /** The replies the client stopped locally when it sent the INTERRUPT. */
  stopped: string[];
} & ({ outcome: InterruptOutcome } | { error: Error });

/** ERRORs about a request that refuse it: nothing else will come for it. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(['INVALID_MESSAGE', 'DUPLICATE_REQUEST', 'TOO_MANY_REQUESTS', 'UNSUPPORTED_DATA_TYPE']);

/** A FUNCTION_RESULT error longer than the gateway takes would be refused. */
const MAX_FUNCTION_ERROR_CHARS = 4000;

/** A frame a client sends when it can, in the order it was asked to. */
type Outgoing = (socket: SocketConnection) => void;

/**
 * A client of the gateway's WebSocket protocol, for browsers and Node. It
 * registers, keeps the connection alive, reconnects and resumes the session
 * (frames after the last one it saw are replayed), streams replies, and
 * interrupts optimistically: the moment interrupt() is called the reply's
 * frames stop and its audio is silenced; the ACK only confirms.
 */
export class GatewayClient {
  private readonly statusSubject = new BehaviorSubject<ConnectionStatus>('idle');
  /** idle → connecting → open ⇄ reconnecting → closed */
  readonly status$: Observable<ConnectionStatus> = this.statusSubject.asObservable();
  private readonly envelopes = new Subject<ServerEnvelope>();
  /** Every envelope from the gateway (replayed duplicates excepted), after the client has handled it. */
  readonly messages$: Observable<ServerEnvelope> = this.envelopes.asObservable();
  private readonly sessionsSubject = new Subject<RegisterAckPayload>();
  /** Each new session: the first REGISTER_ACK, and a new one after a session was lost. */
  readonly sessions$: Observable<RegisterAckPayload> = this.sessionsSubject.asObservable();
  private readonly adoptedSubject = new Subject<Reply>();
  /** Replies to requests this client did not send: running when it resumed the session (a reloaded page), or sent by another socket of it. */
  readonly adopted$: Observable<Reply> = this.adoptedSubject.asObservable();
  private readonly interruptsSubject = new Subject<InterruptReport>();
  /** Every INTERRUPT, once acknowledged (with the ACK's latency) or failed. */
  readonly interrupts$: Observable<InterruptReport> = this.interruptsSubject.asObservable();

  private readonly closing$ = new Subject<void>();
  private readonly channels = new Map<string, ReplyChannel>();
  private readonly answers = new AnswerWaiters();
  /** Running client functions by call id. */
  private readonly functionCalls = new Map<string, { requestId: string; abort: AbortController }>();
  private outbox: { urgent: Outgoing[]; normal: Outgoing[] } = { urgent: [], normal: [] };
  private readonly ackTimeoutMs: number;
  private socket?: SocketConnection;
  private ack?: RegisterAckPayload;
  private seq = 0;
  /** After a RESUME: when the replay is through, replies that were running here and got no end are lost. */
  private replay?: { lastSeq: number; suspects: ReplyChannel[] };
  private attempts = 0;
  /** SERVER_SHUTDOWN's advice for the next reconnect. */
  private retryAfterMs?: number;

  constructor(private readonly options: GatewayClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    options.player?.played$.pipe(takeUntil(this.closing$)).subscribe((report) => {
      // Advice, not state: one lost while offline is superseded by the next.
      if (this.socket?.open) this.socket.send('PLAYBACK', report, this.ack?.session_id);
    });
  }

  get status(): ConnectionStatus {
    return this.statusSubject.value;
  }

  get registerAck(): RegisterAckPayload | undefined {
    return this.ack;
  }

  get sessionId(): string | undefined {
    return this.ack?.session_id;
  }

  /** The number of the last frame received (RESUME asks for those after it). */
  get lastSeq(): number {
    return this.seq;
  }

  /** What to keep to resume this session after a reload (with `lastSeq` as it is now, or an earlier one to see more again). */
  resumePoint(lastSeq = this.seq): ResumePoint | undefined {
    return this.ack && { registerAck: this.ack, lastSeq };
  }

  /**
   * Connects and registers, or, given a resume point, resumes that session
   * (registering a new one if the gateway no longer knows it). From then on
   * the client reconnects by itself until close().
   */
  async connect(resume?: ResumePoint): Promise<RegisterAckPayload> {
    if (this.status !== 'idle') throw new Error('connect() is called once per client');
    if (resume) {
      this.ack = resume.registerAck;
      this.seq = resume.lastSeq;
    }
    this.setStatus('connecting');
    try {
      await this.attach();
    } catch (error) {
      this.shutDown(error as Error);
      throw error;
    }
    return this.ack!;
  }

  /** Sends a REQUEST. Its reply streams as an Observable and an async iterable (see Reply). */
  request(text: string, options: RequestOptions = {}): Reply {
    const requestId = options.requestId ?? newRequestId();
    if (this.channels.has(requestId)) throw new Error(`Request ${requestId} is still running`);
    const channel = this.openChannel(requestId, false);
    if (this.status === 'closed') {
      this.drop(channel, new ClientClosedError());
      return channel.reply;
    }
    this.send(
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
    const running = [...this.channels.values()].filter((c) => !c.interrupted);
    return Promise.all(running.map((channel) => this.interrupt(channel.requestId, { reason })));
  }

  /**
   * Stops a request (all of this session's without an id, or per `scope`).
   * Optimistic: its frames are dropped and its audio silenced right now; the
   * promise resolves with the gateway's ACK and its latency, or rejects with
   * AckTimeoutError.
   */
  interrupt(requestId?: string, { reason = 'USER_INTERRUPT', scope }: InterruptOptions = {}): Promise<InterruptOutcome> {
    // The gateway would refuse it, and the refusal cannot tell which INTERRUPT it answers.
    if (scope === 'request' && requestId === undefined) return Promise.reject(new Error('scope "request" needs a request id'));
    const one = requestId !== undefined && (scope ?? 'request') === 'request';
    const targets = one ? [this.channels.get(requestId)].filter((c) => c !== undefined) : [...this.channels.values()];
    for (const channel of targets) this.stopLocally(channel, reason);
    let playedUntil: PlayedPosition | undefined;
    if (one) playedUntil = this.options.player?.stop(requestId);
    else this.options.player?.stopAll();

    const sentAt = performance.now();
    const outcome = this.answer('INTERRUPT_ACK', (ack) => ack.interrupt_request_id === (requestId ?? null) && ack.reason === reason).then(
      (ack): InterruptOutcome => ({ ack, ackMs: performance.now() - sentAt }),
    );
    this.send(
      'INTERRUPT',
      {
        ...(requestId !== undefined && { interrupt_request_id: requestId }),
        reason,
        ...(scope !== undefined && { scope }),
        ...(playedUntil && { played_until: playedUntil }),
      },
      { urgent: true },
    );
    const report = { requestId: requestId ?? null, reason, stopped: targets.map((c) => c.requestId) };
    outcome.then(
      (result) => this.interruptsSubject.next({ ...report, outcome: result }),
      (error: Error) => this.interruptsSubject.next({ ...report, error }),
    );
    return outcome;
  }

  /** The session's conversation history (interrupted turns marked, cut where the user stopped listening). */
  async history(): Promise<HistoryMessage[]> {
    const answer = this.answer('HISTORY');
    this.send('HISTORY', {});
    return (await answer).messages;
  }

  /** Clears the history; resolves with how many messages it removed. */
  async reset(): Promise<number> {
    const answer = this.answer('RESET_ACK');
    this.send('RESET', {});
    return (await answer).cleared;
  }

  /** Closes the connection for good: whatever is pending fails with ClientClosedError. */
  close(): void {
    if (this.status === 'closed') return;
    const socket = this.socket;
    this.socket = undefined;
    socket?.abandon(1000, 'client closed');
    this.shutDown(new ClientClosedError());
  }

  /** Opens a socket and registers or resumes on it; the socket is the client's once this resolves. */
  private async attach(): Promise<void> {
    const socket = await SocketConnection.open(this.options.url, this.socketFactory(), this.ackTimeoutMs);
    if (this.status === 'closed') {
      socket.abandon(1000, 'client closed');
      throw new ClientClosedError();
    }
    // Routed from the first message on: a RESUME_ACK and the replay behind it may come in one read.
    socket.messages$.subscribe((message) => this.route(message));
    try {
      await this.handshake(socket);
    } catch (error) {
      socket.abandon(1000, 'handshake failed');
      throw error;
    }
    this.socket = socket;
    this.attempts = 0;
    this.setStatus('open');
    const { urgent, normal } = this.outbox;
    this.outbox = { urgent: [], normal: [] };
    for (const write of [...urgent, ...normal]) write(socket);
    this.keepAlive(socket);
    socket.closed$.subscribe(() => this.disconnected(socket));
  }

  private async handshake(socket: SocketConnection): Promise<void> {
    const auth = { auth_type: 'API_KEY', api_key: this.options.apiKey ?? '' };
    if (this.ack) {
      const resumed = this.handshakeAnswer(socket, 'RESUME_ACK');
      socket.send('RESUME', { session_id: this.ack.session_id, last_seq: this.seq, auth });
      const error = await resumed;
      if (!error) return;
      // Gone, or not the session this client saw (it is behind the client's last_seq): a new one.
      if (error.code !== 'SESSION_NOT_FOUND' && error.code !== 'LAST_SEQ_AHEAD') throw new GatewayError(error);
      this.sessionLost(this.ack.session_id);
    }
    const registered = this.handshakeAnswer(socket, 'REGISTER_ACK');
    socket.send('REGISTER', {
      auth,
      platform: this.options.platform ?? 'sdk',
      require_tts: this.options.speak ?? false,
      audio_transport: this.options.audioTransport ?? 'binary',
      durable: this.options.durable ?? false,
      function_calling: Object.entries(this.options.functions ?? {}).map(([name, fn]) => ({
        type: 'function' as const,
        function: { name, description: fn.description, parameters: fn.parameters },
      })),
    });
    const error = await registered;
    if (error) throw new GatewayError(error);
  }

  /** Resolves (with nothing) once route() has taken the ACK, or with the ERROR that answered instead. */
  private handshakeAnswer(socket: SocketConnection, ack: 'REGISTER_ACK' | 'RESUME_ACK'): Promise<ErrorPayload | undefined> {
    return firstValueFrom(
      this.envelopes.pipe(
        filter((m) => m.msg_type === ack || (m.msg_type === 'ERROR' && m.payload.request_id === undefined)),
        map((m) => (m.msg_type === 'ERROR' ? m.payload : undefined)),
        timeout({ first: this.ackTimeoutMs, with: () => throwError(() => new AckTimeoutError(ack, this.ackTimeoutMs)) }),
        takeUntil(socket.closed$),
        takeUntil(this.closing$),
        throwIfEmpty(() => new ConnectionError(`The connection closed before ${ack}`)),
      ),
    );
  }

  private route(message: Inbound): void {
    if (message.kind === 'audio') {
      const format = this.ack?.tts.audio_format;
      // Binary audio only comes to sessions whose REGISTER_ACK announced its format.
      if (this.isNew(message.frame.seq) && format) this.deliver(binaryAudioFrame(message.frame, format));
    } else {
      const { envelope } = message;
      if (envelope.seq !== undefined && !this.isNew(envelope.seq)) return;
      this.handle(envelope);
      this.envelopes.next(envelope);
    }
    if (this.replay && this.seq >= this.replay.lastSeq) this.replayed();
  }

  /** Frames already seen (a replay overlapping what arrived) are dropped. */
  private isNew(seq: number): boolean {
    if (seq <= this.seq) return false;
    this.seq = seq;
    return true;
  }

  private handle(envelope: ServerEnvelope): void {
    switch (envelope.msg_type) {
      case 'REGISTER_ACK':
        { this.registered(envelope.payload); return; }
      case 'RESUME_ACK':
        { this.resumed(envelope.payload); return; }
      case 'RESPONSE':
        { this.deliver(responseFrame(envelope.payload)); return; }
      case 'TOOL_STATUS':
        { this.deliver({ kind: 'tool', requestId: envelope.payload.request_id, status: envelope.payload }); return; }
      case 'FUNCTION_CALL':
        { this.callFunction(envelope.payload); return; }
      case 'FUNCTION_CANCEL':
        return this.functionCalls.get(envelope.payload.call_id)?.abort.abort();
      case 'ERROR':
        { this.failed(envelope.payload); return; }
      case 'SERVER_SHUTDOWN':
        this.retryAfterMs = envelope.payload.retry_after_ms;
        return;
      case 'INTERRUPT_ACK':
      case 'HISTORY':
      case 'RESET_ACK':
        this.answers.answer(envelope);
        return;
      case 'HEARTBEAT':
        return; // keepAlive() watches messages$ for it
    }
  }

  private registered(ack: RegisterAckPayload): void {
    this.ack = ack;
    this.seq = 0;
    this.sessionsSubject.next(ack);
  }

  private resumed(ack: ResumeAckPayload): void {
    const active = new Set(ack.active_request_ids);
    const suspects = [...this.channels.values()].filter((c) => c.sent && !c.done && !active.has(c.requestId));
    for (const id of ack.active_request_ids) {
      const channel = this.channels.get(id);
      if (!channel) this.adopt(id);
      // The user stopped it while the connection was down, and the gateway never heard: say it again.
      else if (channel.interrupted) this.send('INTERRUPT', { interrupt_request_id: id, reason: channel.interruptReason }, { urgent: true });
    }
    this.replay = { lastSeq: ack.last_seq, suspects };
  }

  private replayed(): void {
    const lost = this.replay!.suspects.filter((c) => !c.done);
    this.replay = undefined;
    for (const channel of lost) this.drop(channel, new ReplyLostError(channel.requestId));
  }

  private deliver(frame: ReplyFrame): void {
    const channel = this.channels.get(frame.requestId) ?? this.adopt(frame.requestId);
    if (!channel.push(frame)) return;
    if (frame.kind === 'audio') this.options.player?.play(frame.requestId, frame.chunk);
    if (frame.kind === 'end') this.release(channel);
  }

  private failed(error: ErrorPayload): void {
    const channel = error.request_id === undefined ? undefined : this.channels.get(error.request_id);
    if (!channel) return; // about nothing this client waits for; messages$ shows it
    if (channel.received === 0 && REFUSALS.has(error.code)) this.drop(channel, new GatewayError(error));
    else channel.push({ kind: 'error', requestId: channel.requestId, error });
  }

  private callFunction(call: FunctionCallPayload): void {
    const { request_id: requestId, call_id: callId, name } = call;
    const abort = new AbortController();
    this.functionCalls.set(callId, { requestId, abort });
    defer(async () => {
      const fn = this.options.functions?.[name];
      if (!fn) throw new Error(`This client has no function ${name}`);
      return fn.run(JSON.parse(call.arguments) as JsonValue, { requestId, callId, name, signal: abort.signal });
    })
      .pipe(
        // Withdrawn: the gateway wants no result.
        takeUntil(fromEvent(abort.signal, 'abort')),
        takeUntil(this.closing$),
        finalize(() => this.functionCalls.delete(callId)),
      )
      .subscribe({
        next: (result) => this.send('FUNCTION_RESULT', { request_id: requestId, call_id: callId, result }),
        error: (error: unknown) =>
          this.send('FUNCTION_RESULT', {
            request_id: requestId,
            call_id: callId,
            error: (error instanceof Error ? error.message : String(error)).slice(0, MAX_FUNCTION_ERROR_CHARS),
          }),
      });
  }

  private openChannel(requestId: string, adopted: boolean): ReplyChannel {
    const channel = new ReplyChannel(requestId, (reason) => this.interrupt(requestId, { reason }), adopted);
    this.channels.set(requestId, channel);
    return channel;
  }

  private adopt(requestId: string): ReplyChannel {
    const channel = this.openChannel(requestId, true);
    channel.sent = true;
    this.adoptedSubject.next(channel.reply);
    return channel;
  }

  private stopLocally(channel: ReplyChannel, reason: string): void {
    channel.interrupted = true;
    channel.interruptReason = reason;
    this.abortFunctions(channel.requestId);
  }

  /** The reply is over: nothing more is routed to it. */
  private release(channel: ReplyChannel): void {
    if (this.channels.get(channel.requestId) === channel) this.channels.delete(channel.requestId);
    this.abortFunctions(channel.requestId);
  }

  private drop(channel: ReplyChannel, error: Error): void {
    this.release(channel);
    channel.fail(error);
  }

  private abortFunctions(requestId: string): void {
    for (const call of this.functionCalls.values()) if (call.requestId === requestId) call.abort.abort();
  }

  private sessionLost(sessionId: string): void {
    this.ack = undefined;
    this.seq = 0;
    this.outbox = { urgent: [], normal: [] };
    for (const channel of [...this.channels.values()]) this.drop(channel, new SessionLostError(sessionId));
  }

  /** Waits for the answer to a message about to be sent. */
  private answer<T extends ServerMsgType>(type: T, matches?: (payload: ServerPayloads[T]) => boolean): Promise<ServerPayloads[T]> {
    return firstValueFrom(
      this.answers.wait(type, this.ackTimeoutMs, matches).pipe(
        takeUntil(this.closing$),
        throwIfEmpty(() => new ClientClosedError()),
      ),
    );
  }

  /** Sends now when connected, else when the connection is back (INTERRUPTs first). */
  private send<T extends ClientMsgType>(
    type: T,
    payload: ClientPayloads[T],
    { urgent = false, onSent }: { urgent?: boolean; onSent?: () => void } = {},
  ): void {
    const write: Outgoing = (socket) => {
      socket.send(type, payload, this.ack?.session_id);
      onSent?.();
    };
    if (this.socket?.open) write(this.socket);
    else (urgent ? this.outbox.urgent : this.outbox.normal).push(write);
  }

  /** A HEARTBEAT unanswered in time means the connection is dead, even if the socket has not noticed. */
  private keepAlive(socket: SocketConnection): void {
    const { intervalMs, timeoutMs } = this.options.heartbeat ?? {
      intervalMs: this.ack!.heartbeat.ping_interval_ms,
      timeoutMs: this.ack!.heartbeat.pong_timeout_ms,
    };
    interval(intervalMs)
      .pipe(
        // One HEARTBEAT in flight at a time: ticks while it waits for its answer are skipped.
        exhaustMap(() => {
          const answered = this.envelopes.pipe(
            first((m) => m.msg_type === 'HEARTBEAT'),
            timeout(timeoutMs),
          );
          socket.send('HEARTBEAT', {}, this.ack?.session_id);
          return answered;
        }),
        takeUntil(socket.closed$),
      )
      .subscribe({ error: () => socket.abandon(4000, 'heartbeat timeout') });
  }

  private disconnected(socket: SocketConnection): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.options.reconnect === false) {
      this.shutDown(new ClientClosedError('The connection closed and reconnecting is off'));
      return;
    }
    this.setStatus('reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    const delay = this.retryAfterMs ?? backoffDelay(this.attempts, this.options.reconnect || DEFAULT_BACKOFF);
    this.retryAfterMs = undefined;
    this.attempts += 1;
    timer(delay)
      .pipe(
        switchMap(() => this.attach()),
        takeUntil(this.closing$),
      )
      .subscribe({
        error: (error: Error) => {
          // A key the gateway refuses will not work next time either.
          if (error instanceof GatewayError && error.code === 'AUTH_FAILED') this.shutDown(error);
          else this.reconnect();
        },
      });
  }

  private shutDown(error: Error): void {
    this.setStatus('closed');
    this.closing$.next();
    this.closing$.complete();
    this.outbox = { urgent: [], normal: [] };
    for (const channel of [...this.channels.values()]) this.drop(channel, error);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status !== status) this.statusSubject.next(status);
  }

  private socketFactory(): WebSocketFactory {
    return this.options.webSocket ?? ((url: string) => new WebSocket(url));
  }
}
