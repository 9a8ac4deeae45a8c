import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { filter, firstValueFrom, map, merge, type Observable, of, timer } from 'rxjs';
import { AgentService } from '../agent/agent.service.js';
import { RemoteControl } from '../agent/remote-control.service.js';
import type { Identity } from '../auth/api-key.service.js';
import { ClusterDirectory, type TaskRecord, type TaskState } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { RedisEventLog } from '../cluster/redis-event-log.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { EventLog, LoggedFrame } from '../gateway/event-log.js';
import type { Session } from '../gateway/session.js';
import { SessionLifecycle } from '../gateway/session-lifecycle.service.js';
import { SessionService } from '../gateway/session.service.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import type { EndPayload } from '@agent-gateway/protocol';
import { RequestRegistry } from '../request-registry/request-registry.service.js';

export type { TaskRecord } from '../cluster/cluster-directory.service.js';

/** A task running (or run) on this instance. */
interface LocalTask {
  record: TaskRecord;
  session: Session;
  /** The session was made for this task, and ends after it. */
  ownSession: boolean;
}

export interface TaskInput {
  text: string;
  requireTts: boolean;
  /** Continue the conversation of an earlier task's (or one's own WebSocket) session. */
  sessionId?: string;
}

/**
 * Durable requests without a socket (the predecessor's polling mode): each
 * task is a REQUEST in a session of its own (or one the caller already owns),
 * whose frames are read back from the session's log, by polling or as
 * server-sent events. A socket closing never touches a task; stopping one is
 * explicit. With Redis, a task is readable and stoppable on every instance:
 * its record is in Redis, its frames in the shared log, and a stop goes to the
 * instance that runs it.
 */
@Injectable()
export class TaskService {
  private readonly tasks = new Map<string, LocalTask>();

  constructor(
    private readonly lifecycle: SessionLifecycle,
    private readonly sessions: SessionService,
    private readonly agent: AgentService,
    private readonly registry: RequestRegistry,
    private readonly remote: RemoteControl,
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly sharedLog: RedisEventLog,
    private readonly concurrency: KeyConcurrency,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Records written while Redis was away are written again, ended ones for what is left of their time.
    if (cluster.enabled) cluster.reconnected$.subscribe(() => this.tasks.forEach(({ record }) => this.publish(record)));
  }

  /** Throws CONCURRENCY_LIMITED when the key already runs HTTP_MAX_CONCURRENT_PER_KEY requests (tasks and completions). */
  start(identity: Identity, input: TaskInput): TaskRecord {
    const releaseSlot = this.concurrency.acquire(identity.userId);
    try {
      return this.run(identity, input, releaseSlot);
    } catch (error) {
      releaseSlot();
      throw error;
    }
  }

  private run(identity: Identity, input: TaskInput, releaseSlot: () => void): TaskRecord {
    const ownSession = input.sessionId === undefined;
    const session = ownSession
      ? this.lifecycle.create(identity, {
          platform: 'rest',
          requireTts: input.requireTts,
          audioTransport: 'json',
          clientTools: new Map(),
          durable: true,
        })
      : this.sessions.owned(input.sessionId!, identity);
    const record: TaskRecord = {
      task_id: `task_${randomUUID().replaceAll('-', '')}`,
      session_id: session.id,
      user_id: identity.userId,
      owner: this.cluster.instanceId,
      state: 'running',
      created_at: Date.now(),
      ended_at: null,
      end: null,
    };
    const task: LocalTask = { record, session, ownSession };
    // A session the task borrows is kept from expiring while it runs; a refused task never touched it.
    let giveBack = (): void => undefined;
    let ended = false;
    try {
      this.agent.startRequest(
        session,
        { request_id: record.task_id, data_type: 'TEXT', content: { text: input.text }, require_tts: input.requireTts, durable: true },
        (end) => {
          ended = true;
          releaseSlot();
          giveBack();
          this.ended(task, end);
        },
      );
    } catch (error) {
      if (ownSession) this.lifecycle.end(session, 'TASK_REFUSED');
      throw error;
    }
    if (!ownSession && !ended) giveBack = this.lifecycle.borrow(session);
    this.tasks.set(record.task_id, task);
    this.publish(record);
    return record;
  }

  /** Another identity's task answers exactly like one that does not exist. */
  async get(id: string, identity: Identity): Promise<TaskRecord> {
    const record = this.tasks.get(id)?.record ?? (await this.directory.task(id));
    if (!record || record.user_id !== identity.userId) throw new GatewayError('TASK_NOT_FOUND');
    return record;
  }

  /** The task's state, reply text so far and end frame, from its logged frames when they say more than the record. */
  async read(task: TaskRecord): Promise<{ record: TaskRecord; text: string; lastSeq: number }> {
    const frames = await this.framesAfter(task, 0);
    const responses = frames.map(parse).filter((envelope) => envelope.msg_type === 'RESPONSE' && envelope.payload.request_id === task.task_id);
    const text = responses.map((envelope) => (typeof envelope.payload.content?.text === 'string' ? envelope.payload.content.text : '')).join('');
    // The owner writes the record after the end frame; another instance may read the frame first.
    const end = responses.map((envelope) => envelope.payload).find((payload) => payload.text_stream_seq === -1) as EndPayload | undefined;
    const record = task.end === null && end ? { ...task, state: stateOf(end), end } : task;
    return { record, text, lastSeq: await this.lastSeq(task) };
  }

  /** The session's frames after `after`; waits up to `timeoutMs` for some while the task runs and has none. */
  async poll(task: TaskRecord, after: number, timeoutMs: number): Promise<LoggedFrame[]> {
    const ready = await this.framesAfter(task, after);
    if (ready.length > 0 || task.state !== 'running') return ready;
    await firstValueFrom(merge(this.live(task, after).pipe(map(() => undefined)), timer(timeoutMs)), { defaultValue: undefined });
    return this.framesAfter(task, after);
  }

  /** Tasks read JSON: binary audio frames only exist for sockets that asked for them. */
  async framesAfter(task: TaskRecord, after: number): Promise<LoggedFrame[]> {
    const log = this.localLog(task);
    const frames = log ? log.since(after).frames : this.cluster.enabled ? (await this.sharedLog.since(task.session_id, after)).frames : [];
    return frames.filter(isJson);
  }

  /** Frames after `after` as they are logged. */
  live(task: TaskRecord, after: number): Observable<LoggedFrame> {
    const log = this.localLog(task);
    const frames$ = log ? log.appended$ : this.cluster.enabled ? this.sharedLog.follow(task.session_id, after) : of<LoggedFrame>();
    return frames$.pipe(filter(isJson));
  }

  isEndFrame(task: TaskRecord, frame: LoggedFrame): boolean {
    const data = frame.data as string;
    return data.includes('"text_stream_seq":-1') && data.includes(`"request_id":"${task.task_id}"`);
  }

  /** Stops the task where it runs; true when this stopped it. */
  async stop(task: TaskRecord): Promise<boolean> {
    const cancellation = { reason: 'STOPPED', source: 'client' as const, receivedAt: performance.now() };
    if (task.owner === this.cluster.instanceId) return this.registry.cancel(task.session_id, task.task_id, cancellation).length > 0;
    const stopped = await this.remote.cancelOn(task.owner, { session_id: task.session_id, request_id: task.task_id, reason: 'STOPPED', source: 'client' });
    return stopped.length > 0;
  }

  private async lastSeq(task: TaskRecord): Promise<number> {
    const log = this.localLog(task);
    return log ? log.lastSeq : this.cluster.enabled ? this.sharedLog.lastSeq(task.session_id) : 0;
  }

  /** The session's own log when the session is here; otherwise (with Redis) the shared one is read. */
  private localLog(task: TaskRecord): EventLog | undefined {
    const session = this.sessions.find(task.session_id);
    if (session && !session.forwarded) return session.log;
    // One process: a borrowed session may have ended before the task is forgotten; its log is kept with the task.
    return this.cluster.enabled ? undefined : this.tasks.get(task.task_id)?.session.log;
  }

  /** Into Redis: a running task's record stays, an ended one expires TASK_TTL_MS after its end. */
  private publish(record: TaskRecord): void {
    if (record.ended_at === null) return this.directory.putTask(record);
    const left = record.ended_at + this.config.sessions.taskTtlMs - Date.now();
    if (left > 0) this.directory.putTask(record, left);
  }

  private ended(task: LocalTask, end: EndPayload): void {
    const { record, session } = task;
    Object.assign(record, { end, ended_at: Date.now(), state: stateOf(end) });
    this.publish(record);
    // Kept for reading back; then forgotten, with the session that was made for it.
    setTimeout(() => {
      this.tasks.delete(record.task_id);
      if (task.ownSession && session.connectionCount === 0 && this.registry.listSession(session.id).length === 0) {
        this.lifecycle.end(session, 'TASK_EXPIRED');
      }
    }, this.config.sessions.taskTtlMs).unref();
  }
}

function stateOf(end: EndPayload): TaskState {
  return end.error ? 'failed' : end.interrupted ? 'interrupted' : 'finished';
}

function isJson(frame: LoggedFrame): boolean {
  return typeof frame.data === 'string';
}

interface LoggedEnvelope {
  msg_type: string;
  payload: { request_id?: string; text_stream_seq?: number; content?: { text?: unknown } };
}

function parse(frame: LoggedFrame): LoggedEnvelope {
  return JSON.parse(frame.data as string) as LoggedEnvelope;
}
