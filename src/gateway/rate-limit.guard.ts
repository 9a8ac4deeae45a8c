import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { GatewayError } from '../errors/gateway-error.js';
import { SessionService } from './session.service.js';

/**
 * Every message, valid or not, spends a token of its connection's bucket;
 * an INTERRUPT spends one of the INTERRUPT bucket instead, which other
 * messages never empty.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}

  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    const connection = this.sessions.connectionOf(ws.getClient<WebSocket>());
    if (!connection) return true;
    const bucket = ws.getPattern() === 'INTERRUPT' ? connection.interruptRate : connection.rate;
    if (!bucket.take()) throw new GatewayError('RATE_LIMITED');
    return true;
  }
}
