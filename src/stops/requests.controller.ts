import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import type { Transport } from '../common/transport.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { cancellation, StopService } from './stop.service.js';

export interface ActiveRequestView {
  /** The handle to cancel it with. */
  id: string;
  request_id: string;
  session_id: string;
  user_id: string;
  transport: Transport;
  /** The API the client spoke (`ws`, `task`, `openai-chat`, `anthropic-messages`…). */
  api: string;
  /** The model the client asked for, by its own name (HTTP model calls). */
  model: string | null;
  started_at: number;
  age_ms: number;
  completion_tokens: number;
}

/**
 * Every active request, WebSocket and HTTP alike, for an operator: a key sees
 * and cancels its own requests, an operator key (GATEWAY_ADMIN_KEYS) all of
 * them. A cancel here is the same cancel as an INTERRUPT.
 */
@Controller('v1/requests')
@UseGuards(ApiKeyGuard)
export class RequestsController {
  constructor(
    private readonly registry: RequestRegistry,
    private readonly stops: StopService,
  ) {}

  @Get()
  list(@CurrentIdentity() identity: Identity): { object: 'list'; data: ActiveRequestView[] } {
    return {
      object: 'list',
      data: this.registry
        .list()
        .filter((r) => visible(r, identity))
        .map(view),
    };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id') handle: string, @CurrentIdentity() identity: Identity): { id: string; cancelled: boolean } {
    const request = this.registry.byOperatorHandle(handle);
    if (!request || !visible(request, identity)) throw new GatewayError('REQUEST_NOT_FOUND');
    return { id: handle, cancelled: this.stops.one(request, cancellation('OPERATOR_CANCELLED', 'operator')) };
  }
}

function visible(request: ActiveRequest, identity: Identity): boolean {
  return identity.admin || request.owner.userId === identity.userId;
}

function view(request: ActiveRequest): ActiveRequestView {
  return {
    id: request.handle,
    request_id: request.id,
    session_id: request.owner.sessionId,
    user_id: request.owner.userId,
    transport: request.owner.transport,
    api: request.owner.api ?? request.owner.transport,
    model: request.owner.model ?? null,
    started_at: request.startedAtMs,
    age_ms: Math.round(performance.now() - request.startedAt),
    completion_tokens: request.usage.completionTokens,
  };
}
