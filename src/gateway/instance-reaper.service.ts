import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClusterDirectory, type LostRequest, type RequestRecord } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { RedisEventLog } from '../cluster/redis-event-log.js';
import { countFrames } from './logged-frame-count.js';
import { LostRequests } from './lost-requests.service.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
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
  private readonly logger = new Logger(InstanceReaper.name);
  private timer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly log: RedisEventLog,
    private readonly lifecycle: SessionLifecycle,
    private readonly lost: LostRequests,
  ) {}

  onModuleInit(): void {
    if (!this.cluster.enabled) return;
    // A lease check, not a stop flag: liveness across processes has no event to wait for.
    this.timer = setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.cluster.ttlMs / 2))).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const instanceId of await this.directory.deadInstances()) {
        if (await this.directory.claimReaping(instanceId)) await this.reap(instanceId);
      }
    } catch (error) {
      this.logger.debug(`sweep failed: ${String(error)}`);
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
      for (const request of lost) await this.directory.forgetRequestOwner(sessionId, request.request_id, deadId);
    }
    await this.directory.forgetInstance(deadId);
    this.logger.warn(`instance ${deadId} is gone: ${requests.length} requests marked failed, ${sessionIds.size} sessions taken over or told`);
  }

  private async reapSession(deadId: string, sessionId: string, records: RequestRecord[]): Promise<void> {
    const entry = await this.directory.session(sessionId);
    const frames = entry ? (await this.log.since(sessionId, 0)).frames : [];
    const lost: LostRequest[] = records.map((record) => ({
      request_id: record.request_id,
      started_at: record.started_at,
      ...countFrames(frames, record.request_id),
    }));
    // A client resuming the session elsewhere may take it first; then that instance ends them.
    if (entry && entry.owner === deadId && (await this.directory.moveSession(sessionId, deadId))) {
      const restored = restoredSession(entry.record);
      const session = this.lifecycle.adopt(sessionId, restored.identity, restored.prefs, await this.log.lastSeq(sessionId));
      this.lifecycle.awaitResume(session);
    }
    await this.lost.report(sessionId, lost);
  }
}
