import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { GatewayError } from '../common/gateway-error.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { cancellation, StopService } from './stop.service.js';

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
    private readonly stops: StopService,
    private readonly sessions: SessionRegistry,
    private readonly directory: ClusterDirectory,
  ) {}

  @Post('sessions/:sessionId/stop')
  @HttpCode(200)
  async stopSession(
    @Param('sessionId') sessionId: string,
    @CurrentIdentity() identity: Identity,
  ): Promise<{ stopped_request_ids: string[] }> {
    const session = this.sessions.find(sessionId);
    const owner = session?.userId ?? (await this.directory.session(sessionId))?.record.user_id;
    if (owner !== identity.userId) throw new GatewayError('SESSION_NOT_FOUND');
    // Wherever its requests run, found in the directory: a session here may still have some on another instance.
    const { here, elsewhere } = this.stops.session(sessionId, cancellation('STOPPED', 'client'));
    return {
      stopped_request_ids: [...here.map((request) => request.id), ...((await elsewhere) ?? []).map((stopped) => stopped.request_id)],
    };
  }

  @Post('users/me/stop')
  @HttpCode(200)
  async stopUser(@CurrentIdentity() identity: Identity): Promise<{ stopped: number }> {
    const { here, elsewhere } = this.stops.user(identity.userId, cancellation('STOPPED', 'client'));
    return { stopped: here.length + ((await elsewhere) ?? []).length };
  }
}
