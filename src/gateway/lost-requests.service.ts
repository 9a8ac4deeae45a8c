import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ClusterDirectory, type LostRequest } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { EndPayload } from '../protocol/server-messages.js';
import { SessionService } from './session.service.js';

/**
 * The requests of a dead instance end with an INSTANCE_LOST error, numbered
 * and logged as their session's next frames. Their session may be moving at
 * that very moment (a client resuming it elsewhere), so the reaper does not
 * pick the session to end them on: it leaves them in Redis, the owner it then
 * sees is told, and every instance that takes a session over looks there
 * too. Taking them from Redis is atomic, so each ends exactly once.
 */
@Injectable()
export class LostRequests implements OnModuleInit {
  private readonly logger = new Logger(LostRequests.name);

  constructor(
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.cluster.enabled) return;
    this.cluster.handle('requests-lost', ({ session_id: sessionId }) => void this.settle(sessionId));
  }

  /** The reaper's part: records them for the session's owner, tells it, and fails their tasks. */
  async report(sessionId: string, requests: LostRequest[]): Promise<void> {
    if (requests.length === 0) return;
    // A REST task has no session to be told in.
    if (await this.directory.session(sessionId)) {
      await this.directory.putLost(sessionId, requests, this.config.eventLog.maxAgeMs);
      // Read after writing: the owner seen now settles them, or a later one does when it takes the session.
      const owner = (await this.directory.session(sessionId))?.owner;
      if (owner === this.cluster.instanceId) await this.settle(sessionId);
      else if (owner) this.cluster.send(owner, 'requests-lost', { session_id: sessionId });
    }
    for (const request of requests) await this.failTask(request);
  }

  /** The owner's part, also run by whoever takes a session over: ends what is recorded. */
  async settle(sessionId: string): Promise<void> {
    const session = this.sessions.find(sessionId);
    if (!session || session.forwarded) return;
    try {
      const error = new GatewayError('INSTANCE_LOST');
      // Each lost request gets what every request gets at its end: an ERROR, then its one end frame.
      for (const request of await this.directory.takeLost(sessionId)) {
        session.remote.ended(request.request_id);
        session.send('ERROR', error.toPayload(request.request_id), { lane: 'control' });
        session.send('RESPONSE', lostEnd(request), { lane: 'control' });
      }
    } catch (error) {
      this.logger.warn(`lost requests of ${sessionId} not read: ${String(error)}`);
    }
  }

  private async failTask(request: LostRequest): Promise<void> {
    const task = await this.directory.task(request.request_id);
    if (!task || task.state !== 'running') return;
    const now = Date.now();
    this.directory.putTask({ ...task, state: 'failed', ended_at: now, end: lostEnd(request, now) }, this.config.sessions.taskTtlMs);
  }
}

function lostEnd(request: LostRequest, now = Date.now()): EndPayload {
  return {
    request_id: request.request_id,
    text_stream_seq: -1,
    voice_stream_seq: -1,
    content: {},
    interrupted: false,
    error: { code: 'INSTANCE_LOST' },
    usage: { prompt_tokens: null, completion_tokens: request.text_frames, total_tokens: null, source: 'counted' },
    timing: { first_token_ms: null, total_ms: now - request.started_at },
    voice_frames: request.voice_frames,
  };
}
