import { AsyncSubject, firstValueFrom, fromEventPattern, type Observable, race, Subject, take, timeout, map, throwError } from 'rxjs';
import {
  type BinaryAudioFrame,
  type ClientMsgType,
  type ClientPayloads,
  decodeAudioFrame,
  PROTOCOL_VERSION,
  type ServerEnvelope,
} from '@agent-gateway/protocol';
import { AckTimeoutError, ConnectionError } from '../errors.js';
import { SOCKET_OPEN, type SocketEvent, type WebSocketFactory, type WebSocketLike } from './web-socket-like.js';

/** What arrives on a socket: a JSON envelope, or a binary audio frame. */
export type Inbound = { kind: 'envelope'; envelope: ServerEnvelope } | { kind: 'audio'; frame: BinaryAudioFrame };

export interface SocketClosed {
  code: number;
  reason: string;
}

/**
 * One WebSocket, from open to close. `messages$` completes when it closes,
 * and `closed$` says how.
 */
export class SocketConnection {
  private readonly inbound = new Subject<Inbound>();
  private readonly closedSubject = new AsyncSubject<SocketClosed>();
  private ended = false;
  readonly messages$: Observable<Inbound> = this.inbound.asObservable();
  readonly closed$: Observable<SocketClosed> = this.closedSubject.asObservable();

  private constructor(private readonly socket: WebSocketLike) {
    socket.addEventListener('message', this.onMessage);
    socket.addEventListener('close', this.onClose);
  }

  /** Opens a socket; rejects when it closes or fails first, or does not open within `timeoutMs`. */
  static async open(url: string, factory: WebSocketFactory, timeoutMs: number): Promise<SocketConnection> {
    const socket = factory(url);
    socket.binaryType = 'arraybuffer';
    const events = (type: 'open' | 'close' | 'error') =>
      fromEventPattern<SocketEvent>(
        (handler) => socket.addEventListener(type, handler),
        (handler) => socket.removeEventListener(type, handler),
      ).pipe(map((event) => ({ type, event })));
    const first = await firstValueFrom(
      race(events('open'), events('close'), events('error')).pipe(
        take(1),
        timeout({ first: timeoutMs, with: () => throwError(() => new AckTimeoutError('WebSocket open', timeoutMs)) }),
      ),
    ).catch((error: unknown) => {
      socket.close();
      throw error;
    });
    if (first.type !== 'open') throw new ConnectionError(`Could not connect to ${url}`);
    return new SocketConnection(socket);
  }

  get open(): boolean {
    return this.socket.readyState === SOCKET_OPEN && !this.ended;
  }

  send<T extends ClientMsgType>(type: T, payload: ClientPayloads[T], sessionId?: string): void {
    this.socket.send(JSON.stringify({ version: PROTOCOL_VERSION, msg_type: type, session_id: sessionId, payload, timestamp: Date.now() }));
  }

  /** A binary frame (input audio, kind 0x02). */
  sendBinary(frame: Uint8Array): void {
    this.socket.send(frame);
  }

  /**
   * Closes without waiting for the closing handshake, which a connection that
   * stopped answering would never complete: the socket counts as closed now.
   */
  abandon(code: number, reason: string): void {
    this.socket.removeEventListener('message', this.onMessage);
    this.socket.removeEventListener('close', this.onClose);
    this.socket.close(code, reason);
    this.finish({ code, reason });
  }

  private readonly onMessage = ({ data }: SocketEvent): void => {
    let message: Inbound;
    try {
      message =
        typeof data === 'string'
          ? { kind: 'envelope', envelope: JSON.parse(data) as ServerEnvelope }
          : { kind: 'audio', frame: decodeAudioFrame(new Uint8Array(data as ArrayBuffer)) };
    } catch {
      // Not the protocol: this connection cannot be trusted with the session's order any more.
      this.abandon(1002, 'malformed frame');
      return;
    }
    this.inbound.next(message);
  };

  private readonly onClose = (event: SocketEvent): void => {
    this.finish({ code: event.code ?? 1006, reason: event.reason ?? '' });
  };

  private finish(closed: SocketClosed): void {
    if (this.ended) return;
    this.ended = true;
    this.closedSubject.next(closed);
    this.closedSubject.complete();
    this.inbound.complete();
  }
}
