import type { EndPayload } from '@agent-gateway/protocol';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { GatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisService } from '../redis/redis.service.js';
import { endFrame } from '../session/end-frame.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { LostRequest } from './directory-records.js';

/**
 * The requests of a dead instance end with an INSTANCE_LOST error, numbered
 * and logged as their session's next frames. Their session may be moving at
 * that very moment (a client resuming it elsewhere), so the reaper does not
 * pick the session to end them on: it leaves them in Redis, the owner it then
 * sees is told, and every instance that takes a session over looks there
 * too, as does every instance whose Redis connection comes back (a notice
 * may have been lost meanwhile). Reporting and taking are atomic, so each
 * ends exactly once.
 */
@Injectable()
export class LostRequests implements OnModuleInit {
  constructor(
    private readonly redis: RedisService,
    private readonly bus: ClusterBus,
    private readonly directory: ClusterDirectory,
    private readonly sessions: SessionRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(LostRequests.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.bus.handle('requests-lost', ({ session_id: sessionId }) => void this.settle(sessionId));
    this.redis.reconnected$.subscribe(() => void this.settleAll());
  }

  /** The reaper's part: records them for the session's owner (see `record`) and tells it. */
  async report(deadId: string, sessionId: string, requests: LostRequest[]): Promise<void> {
    if (!(await this.record(deadId, sessionId, requests))) return;
    // Read after writing: the owner seen now settles them, or a later one does when it takes the session.
    const owner = (await this.directory.session(sessionId))?.owner;
    if (owner === this.redis.instanceId) await this.settle(sessionId);
    else if (owner) this.bus.send(owner, 'requests-lost', { session_id: sessionId });
  }

  /** Fails their tasks and leaves them in Redis for the session's owner; false when none was still to report. */
  async record(deadId: string, sessionId: string, requests: LostRequest[]): Promise<boolean> {
    if (requests.length === 0) return false;
    for (const request of requests) await this.failTask(request);
    return (await this.directory.reportLost(deadId, sessionId, requests, this.config.eventLog.maxAgeMs)) > 0;
  }

  /** The owner's part, also run by whoever takes a session over: ends what is recorded. */
  async settle(sessionId: string): Promise<void> {
    const session = this.sessions.find(sessionId);
    if (!session || session.forwarded) return;
    try {
      const error = new GatewayError('INSTANCE_LOST');
      for (const request of await this.directory.takeLost(sessionId)) {
        const remote = session.remote.find(request.request_id);
        // Its end frame was forwarded here before its instance died: it did end.
        if (!remote && session.remote.findRecent(request.request_id)) continue;
        // What its instance forwarded and is still queued here would come after its end: it goes, as at an interrupt.
        if (remote) session.dropRequest(remote.ref);
        session.remote.ended(request.request_id);
        // What every request gets at its end: an ERROR, then its one end frame.
        session.send('ERROR', error.toPayload(request.request_id), { lane: 'control' });
        session.send('RESPONSE', lostEnd(request), { lane: 'control' });
      }
    } catch (error) {
      this.logger.warn({ session_id: sessionId, err: String(error) }, 'lost requests not read');
    }
  }

  private async settleAll(): Promise<void> {
    try {
      for (const sessionId of await this.directory.sessionsWithLost()) await this.settle(sessionId);
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'lost requests not looked for');
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
  return endFrame({
    requestId: request.request_id,
    outcome: { kind: 'failed', code: 'INSTANCE_LOST' },
    usage: { prompt_tokens: null, completion_tokens: request.text_frames, total_tokens: null, source: 'estimated' },
    timing: { first_token_ms: null, total_ms: now - request.started_at },
    voiceFrames: request.voice_frames,
  });
}
