import type { WebSocket } from 'ws';

/**
 * WebSocket-level keepalive: ping every `intervalMs`; a peer that has not
 * answered with a pong within `timeoutMs` is gone and its socket is
 * terminated, which cancels its session's requests like any other close.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;

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
      this.socket.ping();
      this.timer = setTimeout(() => {
        this.stop();
        this.onDead();
      }, this.timeoutMs);
    }, this.intervalMs);
  }

  private readonly onPong = (): void => {
    clearTimeout(this.timer);
    this.schedulePing();
  };
}
