import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RedisService } from '../redis/redis.service.js';
import { countFrames } from '../session/logged-frames.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { LostRequest, RequestRecord } from './directory-records.js';
import { LostRequests } from './lost-requests.service.js';
import { RedisEventLog } from './redis-event-log.js';
import { SessionMove } from './session-move.js';
import { restoredSession } from './session-record.js';

/**
 * When a gateway instance dies, its requests must not stay "running" forever.
 * Every instance checks, twice per CLUSTER_INSTANCE_TTL_MS, for instances whose
 * heartbeat has expired; one of them (a lock in Redis) takes the dead one's
 * sessions over and has each of its requests ended with an INSTANCE_LOST
 * error (LostRequests), so a client that resumes, or polls its task, sees it.
 */
@Injectable()
export class InstanceReaper implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping = false;
  /** performance.now() of our last reconnection to Redis. */
  private reconnectedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly redis: RedisService,
    private readonly directory: ClusterDirectory,
    private readonly log: RedisEventLog,
    private readonly move: SessionMove,
    private readonly lifecycle: SessionLifecycle,
    private readonly lost: LostRequests,
    @InjectPinoLogger(InstanceReaper.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.redis.reconnected$.subscribe(() => (this.reconnectedAt = performance.now()));
    // A lease check, not a stop flag: liveness across processes has no event to wait for.
    this.timer = setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.redis.ttlMs / 2))).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    // Back from an outage, the others' heartbeats may not be written again yet: alive is not yet told from dead.
    if (this.sweeping || performance.now() - this.reconnectedAt < this.redis.ttlMs) return;
    this.sweeping = true;
    try {
      for (const instanceId of await this.directory.deadInstances()) {
        if (await this.directory.claimReaping(instanceId)) await this.reap(instanceId);
      }
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async reap(deadId: string): Promise<void> {
    const requests = await this.directory.instanceRequests(deadId);
    const sessionIds = new Set([...(await this.directory.instanceSessions(deadId)), ...requests.map((r) => r.session_id)]);
    for (const sessionId of sessionIds) {
      const lost = requests.filter((request) => request.session_id === sessionId);
      await this.reapSession(deadId, sessionId, lost);
    }
    await this.directory.forgetInstance(deadId);
    this.logger.warn(
      { instance_id: deadId, requests: requests.length, sessions: sessionIds.size },
      'instance gone: its requests marked failed, its sessions taken over or told',
    );
  }

  private async reapSession(deadId: string, sessionId: string, records: RequestRecord[]): Promise<void> {
    const entry = await this.directory.session(sessionId);
    const frames = entry && records.length > 0 ? (await this.log.since(sessionId, 0)).frames : [];
    const lost: LostRequest[] = records.map((record) => ({
      request_id: record.request_id,
      started_at: record.started_at,
      ...countFrames(frames, record.request_id),
    }));
    // A client resuming the session elsewhere may take it first; then that instance ends them.
    if (entry && entry.owner === deadId) {
      const moved = await this.move.fromDead(deadId, sessionId);
      if (moved) {
        const restored = restoredSession(entry.record);
        this.lifecycle.awaitResume(this.lifecycle.adopt(sessionId, restored.identity, restored.prefs, moved.lastSeq));
        await this.lost.record(deadId, sessionId, lost);
        // This instance owns it now: it ends them, with what other dead instances left for the dead owner.
        await this.lost.settle(sessionId);
        return;
      }
    }
    await this.lost.report(deadId, sessionId, lost);
  }
}
