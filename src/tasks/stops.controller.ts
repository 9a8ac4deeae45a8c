import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { RemoteControl } from '../agent/remote-control.service.js';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { GatewayError } from '../errors/gateway-error.js';
import { SessionService } from '../gateway/session.service.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';

/**
 * Stops with an explicit scope, over HTTP: a session's requests, or all of an
 * API key's (every session, task and HTTP request), on every instance. A task
 * alone is stopped at /v1/tasks/:id/stop, a request by an operator at
 * /v1/requests/:id/cancel.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class StopsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly directory: ClusterDirectory,
    private readonly registry: RequestRegistry,
    private readonly remote: RemoteControl,
  ) {}

  @Post('sessions/:sessionId/stop')
  @HttpCode(200)
  async stopSession(@Param('sessionId') sessionId: string, @CurrentIdentity() identity: Identity): Promise<{ stopped_request_ids: string[] }> {
    const owner = this.sessions.find(sessionId)?.userId ?? (await this.directory.session(sessionId))?.record.user_id;
    if (owner !== identity.userId) throw new GatewayError('SESSION_NOT_FOUND');
    const stopped = await this.remote.cancelSessionAnywhere(sessionId, { reason: 'STOPPED', source: 'client', receivedAt: performance.now() });
    return { stopped_request_ids: stopped };
  }

  @Post('users/me/stop')
  @HttpCode(200)
  async stopUser(@CurrentIdentity() identity: Identity): Promise<{ stopped: number }> {
    const here = this.registry.cancelUser(identity.userId, { reason: 'STOPPED', source: 'client', receivedAt: performance.now() });
    const elsewhere = await this.remote.cancelUserElsewhere(identity.userId, 'STOPPED');
    return { stopped: here.length + elsewhere.length };
  }
}
