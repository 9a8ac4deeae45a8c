import { randomUUID } from 'node:crypto';
import type { EndPayload } from '@agent-gateway/protocol';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Identity } from '../auth/api-key.service.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import type { TaskRecord, TaskState } from '../cluster/directory-records.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisService } from '../redis/redis.service.js';
import type { Session } from '../session/session.js';

/** A task running (or run) on this instance. */
export interface LocalTask {
  record: TaskRecord;
  session: Session;
  /** The session was made for this task, and ends after it. */
  ownSession: boolean;
}

/**
 * The tasks this instance runs, for TASK_TTL_MS after they end, and their
 * records in Redis, so that every instance can read and stop them (written
 * again when Redis comes back after an outage).
 */
@Injectable()
export class TaskRecords implements OnModuleInit {
  private readonly tasks = new Map<string, LocalTask>();

  constructor(
    private readonly redis: RedisService,
    private readonly directory: ClusterDirectory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Records written while Redis was away are written again, ended ones for what is left of their time.
    if (this.redis.enabled) this.redis.reconnected$.subscribe(() => this.tasks.forEach(({ record }) => this.publish(record)));
  }

  /** A new task's record, run by this instance in `session`. */
  create(session: Session, identity: Identity): TaskRecord {
    return {
      task_id: `task_${randomUUID().replaceAll('-', '')}`,
      session_id: session.id,
      user_id: identity.userId,
      owner: this.redis.instanceId,
      state: 'running',
      created_at: Date.now(),
      ended_at: null,
      end: null,
    };
  }

  isMine(record: TaskRecord): boolean {
    return record.owner === this.redis.instanceId;
  }

  started(task: LocalTask): void {
    this.tasks.set(task.record.task_id, task);
    this.publish(task.record);
  }

  /** Its end frame is in; the record says so, and is forgotten after TASK_TTL_MS. */
  ended(task: LocalTask, end: EndPayload): void {
    Object.assign(task.record, { end, ended_at: Date.now(), state: stateOf(end) });
    this.publish(task.record);
    setTimeout(() => this.tasks.delete(task.record.task_id), this.config.sessions.taskTtlMs).unref();
  }

  local(taskId: string): LocalTask | undefined {
    return this.tasks.get(taskId);
  }

  /** This instance's, or another's from Redis. */
  async find(taskId: string): Promise<TaskRecord | undefined> {
    return this.tasks.get(taskId)?.record ?? (await this.directory.task(taskId));
  }

  /** Into Redis: a running task's record stays, an ended one expires TASK_TTL_MS after its end. */
  private publish(record: TaskRecord): void {
    if (record.ended_at === null) return this.directory.putTask(record);
    const left = record.ended_at + this.config.sessions.taskTtlMs - Date.now();
    if (left > 0) this.directory.putTask(record, left);
  }
}

export function stateOf(end: EndPayload): TaskState {
  return end.error ? 'failed' : end.interrupted ? 'interrupted' : 'finished';
}
