import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Tells the fake servers when each connection closes, with one listener per
 * socket however many requests a keep-alive connection serves. Closed is when
 * the server reads the end of the stream (the peer's FIN) or its reset: what
 * a provider's server sees first. The socket's own 'close' event comes later,
 * in the close phase of that turn of the event loop, after everything else
 * the turn read.
 */
export class SocketCloseWatcher {
  private readonly waiting = new WeakMap<Socket, ((at: number) => void)[]>();
  private readonly closedAt = new WeakMap<Socket, number>();
  private readonly open = new Set<Socket>();

  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.open.add(socket);
      this.waiting.set(socket, []);
      const closed = () => {
        if (this.closedAt.has(socket)) return;
        const at = performance.now();
        this.closedAt.set(socket, at);
        for (const resolve of this.waiting.get(socket) ?? []) resolve(at);
      };
      socket.once('end', closed);
      socket.once('error', closed);
      socket.once('close', () => {
        this.open.delete(socket);
        closed();
      });
    });
  }

  /** Resolves with `performance.now()` when this (open) socket closes. */
  closed(socket: Socket): Promise<number> {
    const at = this.closedAt.get(socket);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiting.get(socket)?.push(resolve));
  }

  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}
