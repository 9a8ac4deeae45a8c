import { type ArgumentsHost, Catch, Injectable, type WsExceptionFilter } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { WebSocket } from 'ws';
import { toGatewayError } from '../common/gateway-error.js';
import { ConnectionRegistry } from './connection-registry.service.js';

/**
 * Turns anything a handler, guard or pipe throws into an ERROR envelope for
 * that client (Nest's default would emit an `exception` event the protocol
 * does not have). Unexpected errors are logged and reach the client only as
 * INTERNAL_ERROR. Errors with a close code (AUTH_FAILED, SERVER_BUSY), and
 * any error before the connection has a session, also close the socket.
 */
@Catch()
@Injectable()
export class GatewayErrorFilter implements WsExceptionFilter {
  constructor(
    private readonly connections: ConnectionRegistry,
    @InjectPinoLogger(GatewayErrorFilter.name) private readonly logger: PinoLogger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const socket = host.switchToWs().getClient<WebSocket>();
    const connection = this.connections.of(socket);
    const error = toGatewayError(exception);
    if (!connection) {
      // A socket the gateway refused or has let go, still delivering what its peer sent: there is no one to answer.
      this.logger.debug({ code: error.code }, 'message on a socket without a connection');
      return;
    }
    const context = { session_id: connection.session?.id, code: error.code, request_id: error.requestId };
    if (error.code === 'INTERNAL_ERROR') this.logger.error({ ...context, err: exception }, 'handler failed');
    else this.logger.debug(context, 'message refused');
    connection.refuse(error);
  }
}
