import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { GatewayError } from '../errors/gateway-error.js';
import type { InboundMessage } from './inbound-message.js';
import { SessionService } from './session.service.js';

/** Everything but REGISTER needs a session, and a session_id, when given, must be this connection's. */
@Injectable()
export class RegisteredGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}

  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    const session = this.sessions.connectionOf(ws.getClient<WebSocket>())?.session;
    if (!session) throw new GatewayError('NOT_REGISTERED');
    const claimed = ws.getData<InboundMessage>().envelope.session_id;
    if (claimed !== undefined && claimed !== session.id) throw new GatewayError('SESSION_MISMATCH');
    return true;
  }
}
