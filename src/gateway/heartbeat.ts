import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';

/**
 * WebSocket-level keepalive: ping every `intervalMs`; a peer that has not
 * answered with a pong within `timeoutMs` is gone and its socket is
 * terminated, which cancels its session's requests like any other close.
 * Each ping carries a nonce and only its echo counts: a pong a client sends
 * unasked (RFC 6455 allows them) proves nothing about whether it reads.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  /** The nonce of the ping awaiting its pong. */
  private awaited?: Buffer;

  constructor(
    private readonly socket: WebSocket,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly onDead: () => void,
  ) {
    socket.on('pong', this.onPong);
    this.schedulePing();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.socket.off('pong', this.onPong);
  }

  private schedulePing(): void {
    this.timer = setTimeout(() => {
      this.awaited = randomBytes(8);
      this.socket.ping(this.awaited);
      this.timer = setTimeout(() => {
        this.stop();
        this.onDead();
      }, this.timeoutMs);
    }, this.intervalMs);
  }

  private readonly onPong = (data: Buffer): void => {
    if (!this.awaited?.equals(data)) return;
    this.awaited = undefined;
    clearTimeout(this.timer);
    this.schedulePing();
  };
}
