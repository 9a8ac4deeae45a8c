import { AsyncSubject, BehaviorSubject, type Observable, switchMap, takeUntil, timer } from 'rxjs';
import type { ClientMsgType, ClientPayloads, RegisterAckPayload } from '@agent-gateway/protocol';
import { ClientClosedError, GatewayError } from '../errors.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { Handshake } from './handshake.js';
import type { LinkOptions } from './link-options.js';
import { keepAlive } from './heartbeat.js';
import { Outbox, type Outgoing } from './outbox.js';
import { type Inbound, SocketConnection } from './socket-connection.js';

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SessionLinkHooks {
  /** Every message of every socket, in order, from its first. */
  received(message: Inbound): void;
  /** The number of the last frame the client has, which RESUME asks the replay to follow. */
  lastSeq(): number;
  /** The gateway no longer knows the session: what ran in it is lost, and a new one is being registered. */
  sessionLost(sessionId: string): void;
  /** The link is closed for good: whatever is pending fails with `error`. */
  closed(error: Error): void;
}

export interface SendOptions {
  /** Goes ahead of the rest if it has to wait for a connection. */
  urgent?: boolean;
  /** Called once it has gone out on a socket. */
  onSent?: () => void;
}

/**
 * The client's link to its session, over one socket after another: it opens
 * a socket, registers or resumes on it and keeps it alive; when the socket
 * drops it opens the next, with backoff, and resumes, until it is closed or
 * the gateway refuses the key.
 */
export class SessionLink {
  private readonly statusSubject = new BehaviorSubject<ConnectionStatus>('idle');
  readonly status$: Observable<ConnectionStatus> = this.statusSubject.asObservable();
  // Async: whoever subscribes after the close still hears it, at once.
  private readonly closingSubject = new AsyncSubject<void>();
  /** Emits once, when the link closes for good. */
  readonly closing$: Observable<void> = this.closingSubject.asObservable();
  private readonly outbox = new Outbox();
  private readonly handshake: Handshake;
  private socket?: SocketConnection;
  private ack?: RegisterAckPayload;
  private attempts = 0;
  /** SERVER_SHUTDOWN's advice for the next reconnect. */
  private retryAfterMs?: number;

  constructor(
    private readonly options: LinkOptions,
    private readonly ackTimeoutMs: number,
    private readonly hooks: SessionLinkHooks,
  ) {
    this.handshake = new Handshake(options, ackTimeoutMs, this.closing$);
  }

  get status(): ConnectionStatus {
    return this.statusSubject.value;
  }

  /** The REGISTER_ACK of the session the link speaks for. */
  get session(): RegisterAckPayload | undefined {
    return this.ack;
  }

  /** Connects and registers, or resumes `session`. Called once: after that the link reconnects by itself. */
  async connect(session?: RegisterAckPayload): Promise<RegisterAckPayload> {
    this.ack = session;
    this.setStatus('connecting');
    try {
      return await this.attach();
    } catch (error) {
      this.shutDown(error as Error);
      throw error;
    }
  }

  /** Told as the REGISTER_ACK is routed, before anything else sees it, so that all that follows belongs to the new session. */
  registered(ack: RegisterAckPayload): void {
    this.ack = ack;
  }

  /** SERVER_SHUTDOWN: when to come back. */
  retryAfter(ms: number): void {
    this.retryAfterMs = ms;
  }

  /** Sends now when connected, else when the connection is back; after close(), never. */
  send<T extends ClientMsgType>(type: T, payload: ClientPayloads[T], { urgent = false, onSent }: SendOptions = {}): void {
    if (this.status === 'closed') return;
    const write: Outgoing = (socket) => {
      socket.send(type, payload, this.ack?.session_id);
      onSent?.();
    };
    if (this.socket?.open) write(this.socket);
    else this.outbox.hold(write, urgent);
  }

  /** Sends now when connected, else not at all: for advice, which the next one supersedes. */
  sendIfOpen<T extends ClientMsgType>(type: T, payload: ClientPayloads[T]): void {
    if (this.socket?.open) this.socket.send(type, payload, this.ack?.session_id);
  }

  /** A binary frame, in order with the envelopes: now when connected, else when the connection is back. */
  sendBinary(frame: Uint8Array): void {
    if (this.status === 'closed') return;
    if (this.socket?.open) this.socket.sendBinary(frame);
    else this.outbox.hold((socket) => socket.sendBinary(frame), false);
  }

  /** A binary frame now, or never: live audio that would arrive late for the conversation. */
  sendBinaryIfOpen(frame: Uint8Array): void {
    if (this.socket?.open) this.socket.sendBinary(frame);
  }

  close(): void {
    if (this.status === 'closed') return;
    const socket = this.socket;
    this.socket = undefined;
    socket?.abandon(1000, 'client closed');
    this.shutDown(new ClientClosedError());
  }

  /** Opens a socket and registers or resumes on it; the socket is the link's once this resolves. */
  private async attach(): Promise<RegisterAckPayload> {
    const factory = this.options.webSocket ?? ((url: string) => new WebSocket(url));
    const socket = await SocketConnection.open(this.options.url, factory, this.ackTimeoutMs);
    if (this.status === 'closed') {
      socket.abandon(1000, 'client closed');
      throw new ClientClosedError();
    }
    // Routed before the handshake starts: its ACK and the replay behind it may come in one read.
    socket.messages$.subscribe((message) => this.hooks.received(message));
    const resume = this.ack && { session: this.ack, lastSeq: this.hooks.lastSeq() };
    const session = await this.handshake
      .run(socket, resume, (sessionId) => this.sessionLost(sessionId))
      .catch((error: unknown) => {
        socket.abandon(1000, 'handshake failed');
        throw error;
      });
    this.socket = socket;
    this.attempts = 0;
    this.setStatus('open');
    this.outbox.flush(socket);
    keepAlive(socket, session, this.options.heartbeat);
    socket.closed$.subscribe(() => this.disconnected(socket));
    return session;
  }

  private sessionLost(sessionId: string): void {
    this.ack = undefined;
    this.outbox.clear();
    this.hooks.sessionLost(sessionId);
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
        error: (error: unknown) => {
          // A key the gateway refuses will not work next time either.
          if (error instanceof GatewayError && error.code === 'AUTH_FAILED') this.shutDown(error);
          else this.reconnect();
        },
      });
  }

  private shutDown(error: Error): void {
    this.setStatus('closed');
    this.closingSubject.next();
    this.closingSubject.complete();
    this.outbox.clear();
    this.hooks.closed(error);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status !== status) this.statusSubject.next(status);
  }
}
