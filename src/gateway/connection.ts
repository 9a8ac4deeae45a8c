import type { WebSocket } from 'ws';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';
import { type Envelope, PROTOCOL_VERSION, type ErrorCode, type ServerMsgType, type ServerPayloads } from '@agent-gateway/protocol';
import { Heartbeat, type HeartbeatPeer } from './heartbeat.js';
import type { Session, Sink } from '../session/session.js';
import type { InboundMessage } from './inbound-message.js';
import { TokenBucket } from './token-bucket.js';

/** Once its last frames have left, how long a failed connection may take to answer the close before it is cut. */
const CLOSE_HANDSHAKE_MS = 2_000;

/**
 * Errors about a RESUME that leave the handshake open: the client may
 * REGISTER a new session on the same socket.
 */
const HANDSHAKE_MAY_GO_ON = new Set<ErrorCode>(['SESSION_NOT_FOUND', 'LAST_SEQ_AHEAD']);

export interface ConnectionEvents {
  /** The peer stopped answering pings, or never registered, or reads too slowly. */
  onDead(connection: Connection, why: 'heartbeat' | 'register-timeout' | 'slow-consumer'): void;
}

/**
 * One WebSocket: its rate limits, its keepalive and, once registered or
 * resumed, its session. The session's frames reach it through the session's
 * queue; what concerns this socket alone (acks of its own messages, errors
 * about them) is sent here directly, without a sequence number.
 */
export class Connection implements Sink, HeartbeatPeer {
  session?: Session;
  /** Every message but INTERRUPT. */
  readonly rate: TokenBucket;
  private readonly heartbeat: Heartbeat;
  private registerTimer?: NodeJS.Timeout;
  // Made on the first message of their kind (most connections never send one): a bucket is full until then.
  private interruptBucket?: TokenBucket;
  private audioBucket?: TokenBucket;
  /** Messages refused for the rate limit since the last one accepted. */
  private refusedInARow = 0;
  private failed = false;

  constructor(
    readonly socket: WebSocket,
    readonly remoteAddress: string,
    private readonly config: AppConfig,
    private readonly events: ConnectionEvents,
  ) {
    const { ws, limits } = config;
    this.rate = new TokenBucket(limits.rateLimitPerSecond, limits.rateLimitBurst);
    this.heartbeat = new Heartbeat(this, ws);
    this.registerTimer = setTimeout(() => events.onDead(this, 'register-timeout'), ws.registerTimeoutMs);
  }

  /** INTERRUPTs: a bucket of their own, so that no flood of other messages keeps a client from stopping its requests. */
  get interruptRate(): TokenBucket {
    const { interruptRateLimitPerSecond, interruptRateLimitBurst } = this.config.limits;
    return (this.interruptBucket ??= new TokenBucket(interruptRateLimitPerSecond, interruptRateLimitBurst));
  }

  /** Microphone audio, apart from the rest. */
  get audioRate(): TokenBucket {
    const { audioRateLimitPerSecond, audioRateLimitBurst } = this.config.limits;
    return (this.audioBucket ??= new TokenBucket(audioRateLimitPerSecond, audioRateLimitBurst));
  }

  /** The gateway gave up on it (an ERROR and the close are on their way): nothing it still sends is handled. */
  get closing(): boolean {
    return this.failed;
  }

  /**
   * Spends a token of the bucket for this kind of message, as of its arrival.
   * A client that keeps sending past its limit (more than its burst refused
   * in a row) is not slowed down but dropped: RATE_LIMITED, close 1008.
   */
  admit(bucket: TokenBucket, arrivedAt: number): boolean {
    if (bucket.take(arrivedAt)) {
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow += 1;
    const error = new GatewayError('RATE_LIMITED');
    if (this.refusedInARow > this.config.limits.rateLimitBurst) this.fail(error);
    else this.refuse(error);
    return false;
  }

  /**
   * The session a message is for: everything but REGISTER and RESUME needs
   * one, and a session_id, when the message gives one, must be this one's.
   */
  sessionFor(envelope: InboundMessage['envelope']): Session {
    if (!this.session) throw new GatewayError('NOT_REGISTERED');
    const claimed = envelope.session_id;
    if (claimed !== undefined && claimed !== this.session.id) throw new GatewayError('SESSION_MISMATCH');
    return this.session;
  }

  attach(session: Session): void {
    this.session = session;
    clearTimeout(this.registerTimer);
    this.registerTimer = undefined;
  }

  /** A frame for this socket only (no sequence number, not replayed). */
  sendDirect<T extends ServerMsgType>(type: T, payload: ServerPayloads[T]): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // A client that sends but never reads would otherwise pile its own answers up here.
    if (this.socket.bufferedAmount > this.config.ws.sendHardLimitBytes) {
      this.events.onDead(this, 'slow-consumer');
      return;
    }
    this.socket.send(this.encode(type, payload));
  }

  sendError(error: GatewayError, requestId?: string): void {
    this.sendDirect('ERROR', error.toPayload(requestId));
  }

  /**
   * Answers a message the gateway refuses. Until the connection has a
   * session it may send nothing but a valid REGISTER or RESUME: anything
   * else ends it, after its ERROR. So does an error that closes by itself.
   */
  refuse(error: GatewayError): void {
    if (error.closeCode !== undefined || (!this.session && !HANDSHAKE_MAY_GO_ON.has(error.code))) this.fail(error);
    else this.sendError(error);
  }

  /**
   * Ends the connection with an ERROR saying why, straight to the socket, and
   * the close frame right behind it.
   */
  fail(error: GatewayError): void {
    if (this.failed) return;
    this.failed = true;
    this.dispose();
    closeWithError(this.socket, error, { sessionId: this.session?.id, closeTimeoutMs: this.config.ws.closeTimeoutMs });
  }

  /** For its heartbeat. */
  heartbeatLost(): void {
    this.events.onDead(this, 'heartbeat');
  }

  /**
   * A ping is a message like any other (ws's own pong is off): it spends a
   * token, and is answered only while the client reads what it is sent, so
   * a client that pings without reading cannot pile pongs up here.
   */
  pinged(data: Buffer): void {
    if (this.failed || !this.admit(this.rate, performance.now())) return;
    if (this.socket.bufferedAmount < this.config.ws.sendHighWaterBytes) this.socket.pong(data);
  }

  /** A pong, for its heartbeat. */
  ponged(data: Buffer): void {
    this.heartbeat.ponged(data);
  }

  /** Stops timers; the socket is closing or closed. */
  dispose(): void {
    this.heartbeat.stop();
    clearTimeout(this.registerTimer);
  }

  private encode<T extends ServerMsgType>(type: T, payload: ServerPayloads[T]): string {
    return encode(type, payload, this.session?.id);
  }
}

/**
 * An ERROR saying why, then the close frame right behind it: for a
 * connection the gateway gives up on, or a socket it refuses outright. Both
 * go straight to the socket, ahead of everything the session still has
 * queued; but a slow reader may still have data in the socket's buffers
 * before them, and cutting the socket while they wait there would lose
 * them. So the socket is cut once they have left the process and the peer
 * had a moment to answer the close, or after `closeTimeoutMs` at most.
 */
export function closeWithError(socket: WebSocket, error: GatewayError, options: { sessionId?: string; closeTimeoutMs: number }): void {
  if (socket.readyState !== socket.OPEN) return;
  const cut = setTimeout(() => socket.terminate(), options.closeTimeoutMs).unref();
  socket.send(encode('ERROR', error.toPayload(), options.sessionId), () => {
    clearTimeout(cut);
    setTimeout(() => socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
  });
  // 1008, policy violation: the peer sent what the gateway does not accept; 1011: the gateway failed.
  socket.close(error.closeCode ?? (error.code === 'INTERNAL_ERROR' ? 1011 : 1008), error.code);
}

function encode<T extends ServerMsgType>(type: T, payload: ServerPayloads[T], sessionId: string | undefined): string {
  const envelope: Envelope<T, ServerPayloads[T]> = {
    version: PROTOCOL_VERSION,
    msg_type: type,
    ...(sessionId !== undefined && { session_id: sessionId }),
    payload,
    timestamp: Date.now(),
  };
  return JSON.stringify(envelope);
}
