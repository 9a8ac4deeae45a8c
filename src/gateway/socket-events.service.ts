import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { WebSocket } from 'ws';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { closeWithError, type Connection, type ConnectionEvents } from './connection.js';
import { ConnectionRegistry } from './connection-registry.service.js';

/** Sockets opening, closing and being given up on, and which connection a socket is. */
@Injectable()
export class SocketEvents {
  /** One object for every connection: an idle connection should cost as little as possible. */
  private readonly events: ConnectionEvents = { onDead: (connection, why) => this.dead(connection, why) };

  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly lifecycle: SessionLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(SocketEvents.name) private readonly logger: PinoLogger,
  ) {}

  opened(socket: WebSocket, request: IncomingMessage): void {
    const remote = request.socket.remoteAddress ?? 'unknown';
    try {
      this.connections.open(socket, remote, this.events);
    } catch (error) {
      const refusal = toGatewayError(error);
      this.logger.warn({ remote, code: refusal.code }, 'connection refused');
      closeWithError(socket, refusal, { closeTimeoutMs: this.config.ws.closeTimeoutMs });
    }
  }

  closed(socket: WebSocket, reason = 'CLIENT_DISCONNECTED'): void {
    const connection = this.connections.remove(socket);
    if (connection?.session) this.lifecycle.detached(connection.session, connection, reason);
  }

  /**
   * A message of `connection` failed: the client is told why in an ERROR
   * (Connection.refuse; some errors, and any before it has a session, also
   * close it). Unexpected errors are logged and reach the client only as
   * INTERNAL_ERROR.
   */
  refused(connection: Connection, exception: unknown): void {
    const error = toGatewayError(exception);
    if (this.connections.of(connection.socket) !== connection) {
      // Let go of while its message was handled: there is no one to answer.
      this.logger.debug({ code: error.code }, 'message on a socket without a connection');
      return;
    }
    const context = { session_id: connection.session?.id, code: error.code, request_id: error.requestId };
    if (error.code === 'INTERNAL_ERROR') this.logger.error({ ...context, err: exception }, 'handler failed');
    else this.logger.debug(context, 'message refused');
    connection.refuse(error);
  }

  /**
   * The gateway gives up on a connection. Its session's non-durable requests
   * are cancelled now (if it was the last socket): a client that does not
   * read would otherwise hold them until the close handshake times out.
   */
  private dead(connection: Connection, why: 'heartbeat' | 'register-timeout' | 'slow-consumer'): void {
    this.logger.warn({ session_id: connection.session?.id, remote: connection.remoteAddress, why }, 'dropping connection');
    if (why === 'heartbeat') connection.socket.terminate();
    else connection.fail(new GatewayError(why === 'register-timeout' ? 'REGISTER_TIMEOUT' : 'SLOW_CONSUMER'));
    this.closed(connection.socket, why === 'heartbeat' ? 'CLIENT_UNRESPONSIVE' : 'CLIENT_TOO_SLOW');
  }
}
