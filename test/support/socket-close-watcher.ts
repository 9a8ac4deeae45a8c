import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Tells the fake servers when each connection closes, with one 'close'
 * listener per socket however many requests a keep-alive connection serves.
 */
export class SocketCloseWatcher {
  private readonly waiting = new WeakMap<Socket, ((at: number) => void)[]>();
  private readonly open = new Set<Socket>();

  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.open.add(socket);
      this.waiting.set(socket, []);
      socket.once('close', () => {
        const at = performance.now();
        this.open.delete(socket);
        for (const resolve of this.waiting.get(socket) ?? []) resolve(at);
      });
    });
  }

  /** Resolves with `performance.now()` when this (open) socket closes. */
  closed(socket: Socket): Promise<number> {
    return new Promise((resolve) => this.waiting.get(socket)?.push(resolve));
  }

  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}
