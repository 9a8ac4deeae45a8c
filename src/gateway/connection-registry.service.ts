import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { GatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Connection, type ConnectionEvents } from './connection.js';
import { socketListener } from './socket-listener.js';

/** Every open WebSocket, registered or not, until it closes: MAX_CONNECTIONS of them at most. */
@Injectable()
export class ConnectionRegistry implements OnModuleInit {
  private readonly connections = new Map<WebSocket, Connection>();
  // One listener for every socket, where each connection's own would last as long as it does; once the
  // connection is removed they find nothing, so a closed socket needs no `off`.
  private readonly onPing = socketListener((socket, data: Buffer) => this.connections.get(socket)?.pinged(data));
  private readonly onPong = socketListener((socket, data: Buffer) => this.connections.get(socket)?.ponged(data));

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.activeGauge(
      'gateway_open_connections',
      'WebSockets open on this instance, registered or not',
      () => this.connections.size,
    );
  }

  /** A new socket; SERVER_BUSY at the connection limit (sockets that never register count until their register timeout). */
  open(socket: WebSocket, remoteAddress: string, events: ConnectionEvents): Connection {
    if (this.connections.size >= this.config.limits.maxConnections) {
      throw new GatewayError('SERVER_BUSY', { message: 'The gateway is at its connection limit' });
    }
    const connection = new Connection(socket, remoteAddress, this.config, events);
    this.connections.set(socket, connection);
    socket.on('ping', this.onPing);
    socket.on('pong', this.onPong);
    return connection;
  }

  of(socket: WebSocket): Connection | undefined {
    return this.connections.get(socket);
  }

  /** Forgets a closed socket; returns its connection, the first time. */
  remove(socket: WebSocket): Connection | undefined {
    const connection = this.connections.get(socket);
    if (!connection) return undefined;
    connection.dispose();
    this.connections.delete(socket);
    return connection;
  }

  /**
   * Closes every open socket, registered or not, after what was already sent
   * to it; resolves once all have closed, cutting those whose peer has not
   * answered the close within `withinMs`.
   */
  async closeAll(code: number, reason: string, withinMs: number): Promise<void> {
    const sockets = [...this.connections.keys()];
    const closed = sockets.map(
      (socket) => new Promise((resolve) => (socket.readyState === socket.CLOSED ? resolve(undefined) : socket.once('close', resolve))),
    );
    for (const socket of sockets) socket.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
    for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
  }
}
