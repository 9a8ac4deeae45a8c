import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { GatewayError } from '../common/gateway-error.js';
import type { InboundMessage } from './inbound-message.js';
import { ConnectionRegistry } from './connection-registry.service.js';

/** Everything but REGISTER needs a session, and a session_id, when given, must be this connection's. */
@Injectable()
export class RegisteredGuard implements CanActivate {
  constructor(private readonly connections: ConnectionRegistry) {}

  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    const session = this.connections.of(ws.getClient<WebSocket>())?.session;
    if (!session) throw new GatewayError('NOT_REGISTERED');
    const claimed = ws.getData<InboundMessage>().envelope.session_id;
    if (claimed !== undefined && claimed !== session.id) throw new GatewayError('SESSION_MISMATCH');
    return true;
  }
}
