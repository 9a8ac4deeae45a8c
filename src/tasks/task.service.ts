import { Injectable } from '@nestjs/common';
import { RequestRunner } from '../agent/request-runner.service.js';
import type { Identity } from '../auth/api-key.service.js';
import type { TaskRecord } from '../cluster/directory-records.js';
import { GatewayError } from '../common/gateway-error.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { cancellation, StopService } from '../stops/stop.service.js';
import { type LocalTask, TaskRecords } from './task-records.js';

export interface TaskInput {
  text: string;
  requireTts: boolean;
  /** Continue the conversation of an earlier task's (or one's own WebSocket) session. */
  sessionId?: string;
}

/**
 * Durable requests without a socket (the predecessor's polling mode): each
 * task is a REQUEST in a session of its own (or one the caller already owns),
 * whose frames are read back from the session's log (TaskEvents), by polling
 * or as server-sent events. A socket closing never touches a task; stopping
 * one is explicit. With Redis, a task is readable and stoppable on every
 * instance: its record is in Redis, its frames in the shared log, and a stop
 * goes to the instance that runs it.
 */
@Injectable()
export class TaskService {
  constructor(
    private readonly lifecycle: SessionLifecycle,
    private readonly sessions: SessionRegistry,
    private readonly runner: RequestRunner,
    private readonly stops: StopService,
    private readonly concurrency: KeyConcurrency,
    private readonly records: TaskRecords,
  ) {}

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
    const session =
      input.sessionId === undefined
        ? this.lifecycle.create(identity, {
            platform: 'rest',
            requireTts: input.requireTts,
            audioTransport: 'json',
            clientTools: new Map(),
            durable: true,
          })
        : this.sessions.owned(input.sessionId, identity);
    const record = this.records.create(session, identity);
    const task: LocalTask = { record, session, ownSession };
    // A session the task borrows is kept from expiring while it runs; a refused task never touched it.
    let giveBack = (): void => undefined;
    // Set by onEnd, which may run before start() returns (a request refused on the spot).
    const run = { ended: false };
    try {
      this.runner.start(
        session,
        { requestId: record.task_id, prompt: input.text, requireTts: input.requireTts, durable: true },
        {
          transport: 'task',
          onEnd: (end) => {
            run.ended = true;
            releaseSlot();
            giveBack();
            // Readable for TASK_TTL_MS; the session made for it waits for a next task (or a RESUME) like any
            // session without a socket, and ends RESUME_GRACE_MS later.
            this.records.ended(task, end);
            if (ownSession) this.lifecycle.awaitResume(session);
          },
        },
      );
    } catch (error) {
      if (ownSession) this.lifecycle.end(session, 'TASK_REFUSED');
      throw error;
    }
    if (!ownSession && !run.ended) giveBack = this.lifecycle.borrow(session);
    this.records.started(task);
    return record;
  }

  /** Another identity's task answers exactly like one that does not exist. */
  async get(id: string, identity: Identity): Promise<TaskRecord> {
    const record = await this.records.find(id);
    if (!record || record.user_id !== identity.userId) throw new GatewayError('TASK_NOT_FOUND');
    return record;
  }

  /** Stops the task where it runs; true when this stopped it. */
  async stop(task: TaskRecord): Promise<boolean> {
    const runsOn = this.records.isMine(task) ? undefined : { instanceId: task.owner };
    const { here, elsewhere } = this.stops.request(task.session_id, task.task_id, cancellation('STOPPED', 'client'), runsOn);
    return here.length > 0 || ((await elsewhere) ?? []).length > 0;
  }
}
