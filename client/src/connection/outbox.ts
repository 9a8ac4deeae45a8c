import type { SocketConnection } from './socket-connection.js';

/** A frame to write once there is a socket to write it on. */
export type Outgoing = (socket: SocketConnection) => void;

/**
 * What the client was asked to send while it had no connection, in order.
 * INTERRUPTs go ahead of the rest: what they stop is running, and speaking,
 * on the gateway now, while a REQUEST waiting here has not started.
 */
export class Outbox {
  private urgent: Outgoing[] = [];
  private normal: Outgoing[] = [];

  hold(write: Outgoing, urgent: boolean): void {
    (urgent ? this.urgent : this.normal).push(write);
  }

  /** Writes out everything held. */
  flush(socket: SocketConnection): void {
    const writes = [...this.urgent, ...this.normal];
    this.clear();
    for (const write of writes) write(socket);
  }

  /** What is held is for a session that is gone, or a client that closed. */
  clear(): void {
    this.urgent = [];
    this.normal = [];
  }
}
