import type { IncomingMessage } from 'node:http';
import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { GatewayError } from '../common/gateway-error.js';
import { ApiKeyService, type Identity } from './api-key.service.js';

type AuthenticatedRequest = IncomingMessage & { identity?: Identity };

/**
 * HTTP endpoints: `Authorization: Bearer <gateway key>`, or `x-api-key`
 * as Anthropic's clients send it; checked like REGISTER's key.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: ApiKeyService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.keys.openMode && this.keys.foreignOrigin(request.headers.origin, request.headers.host)) {
      // Without keys, any page the developer opens could spend the gateway's model key (a form post needs no preflight).
      throw new GatewayError('AUTH_FAILED', {
        message: 'Open development mode refuses requests from other origins; set GATEWAY_API_KEYS, or list the origin in HTTP_CORS_ORIGINS',
      });
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    const apiKeyHeader = request.headers['x-api-key'];
    const identity = this.keys.authenticate(bearer ?? (typeof apiKeyHeader === 'string' ? apiKeyHeader.trim() : undefined));
    if (!identity) {
      throw new GatewayError('AUTH_FAILED', { message: 'Missing or invalid API key (Authorization: Bearer <key>, or x-api-key: <key>)' });
    }
    request.identity = identity;
    return true;
  }
}

/** The identity ApiKeyGuard authenticated. */
export const CurrentIdentity = createParamDecorator((_: unknown, context: ExecutionContext): Identity => {
  const identity = context.switchToHttp().getRequest<AuthenticatedRequest>().identity;
  if (!identity) throw new GatewayError('INTERNAL_ERROR', { cause: new Error('CurrentIdentity without ApiKeyGuard') });
  return identity;
});
