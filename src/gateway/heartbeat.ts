import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { AppConfig } from '../config/config.schema.js';

/** What a heartbeat keeps alive. */
export interface HeartbeatPeer {
  /** Pinged; its pongs come back through `Heartbeat.ponged`. */
  readonly socket: WebSocket;
  /** It stopped answering pings: called once, the heartbeat already stopped. */
  heartbeatLost(): void;
}

/**
 * WebSocket-level keepalive: ping every WS_PING_INTERVAL_MS; a peer that has
 * not answered with a pong within WS_PONG_TIMEOUT_MS is gone and its socket
 * is terminated, which cancels its session's requests like any other close.
 * Each ping carries a nonce and only its echo counts: a pong a client sends
 * unasked (RFC 6455 allows them) proves nothing about whether it reads. The
 * timers call static functions with the heartbeat as their argument, and
 * the settings are the config's own: a closure or a copy per connection
 * would last as long as the connection.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  /** The nonce of the ping awaiting its pong. */
  private awaited?: Buffer;

  constructor(
    private readonly peer: HeartbeatPeer,
    private readonly settings: Pick<AppConfig['ws'], 'pingIntervalMs' | 'pongTimeoutMs'>,
  ) {
    this.schedulePing();
  }

  /** A pong from the peer: the echo of the ping awaited, or nothing (and nothing once stopped). */
  ponged(data: Buffer): void {
    if (!this.awaited?.equals(data)) return;
    this.awaited = undefined;
    clearTimeout(this.timer);
    this.schedulePing();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.awaited = undefined;
  }

  private schedulePing(): void {
    this.timer = setTimeout(Heartbeat.ping, this.settings.pingIntervalMs, this);
  }

  private static ping(this: void, heartbeat: Heartbeat): void {
    heartbeat.awaited = randomBytes(8);
    heartbeat.peer.socket.ping(heartbeat.awaited);
    heartbeat.timer = setTimeout(Heartbeat.lost, heartbeat.settings.pongTimeoutMs, heartbeat);
  }

  private static lost(this: void, heartbeat: Heartbeat): void {
    heartbeat.stop();
    heartbeat.peer.heartbeatLost();
  }
}
