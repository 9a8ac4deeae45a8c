import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RedisService } from '../redis/redis.service.js';
import { requestField } from '../redis/redis-keys.js';

import type { LostRequest, RequestRecord, SessionRecord, TaskRecord } from './directory-records.js';
import { DROP_REQUEST_OWNER, DROP_SESSION, MOVE_SESSION, REPORT_LOST } from './directory-scripts.js';

/**
 * The shared directory of sessions, requests and tasks in Redis: which
 * instance owns what, so that a stop or a resume reaching another instance
 * finds it, and a dead instance's work is found and marked failed. Writes are
 * fire-and-forget (the local state is the truth for what runs here, and is
 * written again when Redis comes back); without Redis every call is a no-op.
 */
@Injectable()
export class ClusterDirectory {
  constructor(
    private readonly redis: RedisService,
    @InjectPinoLogger(ClusterDirectory.name) private readonly logger: PinoLogger,
  ) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  putSession(sessionId: string, record: SessionRecord): void {
    if (!this.enabled) return;
    const key = this.redis.keys.session(sessionId);
    const { redis, keys, instanceId } = this.redis;
    this.quietly(
      'session record',
      redis
        .multi()
        .hset(key, 'owner', instanceId, 'record', JSON.stringify(record))
        .sadd(keys.instanceSessions(instanceId), sessionId)
        .exec(),
    );
  }

  async session(sessionId: string): Promise<{ owner: string; record: SessionRecord } | undefined> {
    if (!this.enabled) return undefined;
    const [owner, record] = await this.redis.redis.hmget(this.redis.keys.session(sessionId), 'owner', 'record');
    return owner && record ? { owner, record: JSON.parse(record) as SessionRecord } : undefined;
  }

  /** Takes a session over from `from` (a handover, or a dead owner); false when someone else was quicker. */
  async moveSession(sessionId: string, from: string, to = this.redis.instanceId): Promise<boolean> {
    const { redis, keys } = this.redis;
    const moved = await redis.eval(
      MOVE_SESSION,
      3,
      keys.session(sessionId),
      keys.instanceSessions(from),
      keys.instanceSessions(to),
      from,
      to,
      sessionId,
    );
    return moved === 1;
  }

  /** Gives a session of this instance to `to`; false when it is not this instance's (any more). */
  giveAway(sessionId: string, to: string): Promise<boolean> {
    return this.moveSession(sessionId, this.redis.instanceId, to);
  }

  dropSession(sessionId: string): void {
    if (!this.enabled) return;
    const { redis, keys, instanceId } = this.redis;
    this.quietly(
      'session removal',
      redis.eval(DROP_SESSION, 2, keys.session(sessionId), keys.instanceSessions(instanceId), instanceId, sessionId),
    );
  }

  async instanceSessions(instanceId: string): Promise<string[]> {
    return this.redis.redis.smembers(this.redis.keys.instanceSessions(instanceId));
  }

  putRequest(record: RequestRecord): void {
    if (!this.enabled) return;
    this.quietly('request record', this.writeRequest(this.redis.redis.multi(), record).exec());
  }

  dropRequest(sessionId: string, requestId: string): void {
    if (!this.enabled) return;
    const { keys, instanceId } = this.redis;
    this.quietly(
      'request removal',
      this.redis.redis
        .multi()
        .hdel(keys.instanceRequests(instanceId), requestField(sessionId, requestId))
        .eval(DROP_REQUEST_OWNER, 1, keys.sessionRequests(sessionId), requestId, instanceId)
        .exec(),
    );
  }

  /** After Redis was away: what runs here replaces this instance's records (those that ended meanwhile go). */
  replaceRequests(records: RequestRecord[]): void {
    if (!this.enabled) return;
    const { keys, instanceId } = this.redis;
    const write = this.redis.redis.multi().del(keys.instanceRequests(instanceId));
    for (const record of records) this.writeRequest(write, record);
    this.quietly('request records', write.exec());
  }

  /** A request this instance runs: in its own records (for the reaper) and in its session's owners (for stops). */
  private writeRequest(write: ChainableCommander, record: RequestRecord): ChainableCommander {
    const { keys, instanceId } = this.redis;
    return write
      .hset(keys.instanceRequests(instanceId), requestField(record.session_id, record.request_id), JSON.stringify(record))
      .hset(keys.sessionRequests(record.session_id), record.request_id, instanceId);
  }

  /** Request id → the instance that runs it, for a session's requests anywhere. */
  async sessionRequests(sessionId: string): Promise<Map<string, string>> {
    if (!this.enabled) return new Map();
    return new Map(Object.entries(await this.redis.redis.hgetall(this.redis.keys.sessionRequests(sessionId))));
  }

  /** The ids of a session's requests that an instance was running and that have not been reaped. */
  async runningOn(instanceId: string, sessionId: string): Promise<string[]> {
    const { redis, keys } = this.redis;
    const owners = await redis.hgetall(keys.sessionRequests(sessionId));
    const ids = Object.keys(owners).filter((requestId) => owners[requestId] === instanceId);
    if (ids.length === 0) return [];
    // The instance's own records are the truth: an owner entry may have outlived its request (Redis was away when it ended).
    const records = await redis.hmget(keys.instanceRequests(instanceId), ...ids.map((requestId) => requestField(sessionId, requestId)));
    return ids.filter((_, index) => records[index] !== null);
  }

  async instanceRequests(instanceId: string): Promise<RequestRecord[]> {
    const all = await this.redis.redis.hgetall(this.redis.keys.instanceRequests(instanceId));
    return Object.values(all).map((json) => JSON.parse(json) as RequestRecord);
  }

  /** Instances that ran here and whose heartbeat has expired. */
  async deadInstances(): Promise<string[]> {
    const { redis, keys, instanceId } = this.redis;
    const others = (await redis.smembers(keys.instances)).filter((id) => id !== instanceId);
    if (others.length === 0) return [];
    const alive = await Promise.all(others.map((id) => redis.exists(keys.instance(id))));
    return others.filter((_, index) => alive[index] === 0);
  }

  /** One instance reaps a dead one; the lock outlives a reaper that dies midway only briefly. */
  async claimReaping(instanceId: string): Promise<boolean> {
    const { redis, keys } = this.redis;
    return (await redis.set(keys.reaping(instanceId), this.redis.instanceId, 'PX', this.redis.ttlMs * 4, 'NX')) === 'OK';
  }

  async forgetInstance(instanceId: string): Promise<void> {
    const { redis, keys } = this.redis;
    await redis.multi().del(keys.instanceRequests(instanceId), keys.instanceSessions(instanceId)).srem(keys.instances, instanceId).exec();
  }

  /** Leaves a dead instance's requests for whichever instance owns (or next takes) their session; how many were still to report. */
  async reportLost(deadId: string, sessionId: string, requests: LostRequest[], ttlMs: number): Promise<number> {
    const { redis, keys } = this.redis;
    const args = requests.flatMap((request) => [requestField(sessionId, request.request_id), request.request_id, JSON.stringify(request)]);
    const reported = await redis.eval(
      REPORT_LOST,
      3,
      keys.instanceRequests(deadId),
      keys.lostRequests(sessionId),
      keys.sessionRequests(sessionId),
      deadId,
      ttlMs,
      ...args,
    );
    return Number(reported);
  }

  /** Sessions that have lost requests waiting to be ended. */
  async sessionsWithLost(): Promise<string[]> {
    const { redis, keys } = this.redis;
    const pattern = keys.lostRequests('*');
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch.map((key) => key.slice(pattern.length - 1)));
    } while (cursor !== '0');
    return found;
  }

  /** Takes them, atomically: each is ended once, by one owner. */
  async takeLost(sessionId: string): Promise<LostRequest[]> {
    if (!this.enabled) return [];
    const key = this.redis.keys.lostRequests(sessionId);
    const results = await this.redis.redis.multi().hgetall(key).del(key).exec();
    const all = (results?.[0]?.[1] ?? {}) as Record<string, string>;
    return Object.values(all).map((json) => JSON.parse(json) as LostRequest);
  }

  putTask(record: TaskRecord, ttlMs?: number): void {
    if (!this.enabled) return;
    const key = this.redis.keys.task(record.task_id);
    const json = JSON.stringify(record);
    this.quietly('task record', ttlMs === undefined ? this.redis.redis.set(key, json) : this.redis.redis.set(key, json, 'PX', ttlMs));
  }

  async task(taskId: string): Promise<TaskRecord | undefined> {
    if (!this.enabled) return undefined;
    const json = await this.redis.redis.get(this.redis.keys.task(taskId));
    return json ? (JSON.parse(json) as TaskRecord) : undefined;
  }

  /** A failed write is logged, not thrown: it is redone when Redis comes back (see RedisService.reconnected$). */
  private quietly(what: string, write: Promise<unknown>): void {
    write.catch((error: unknown) => this.logger.debug({ what, err: String(error) }, 'directory write failed'));
  }
}
