import { Injectable } from '@nestjs/common';
import { EMPTY, filter, firstValueFrom, map, merge, Observable, timer } from 'rxjs';
import type { TaskRecord } from '../cluster/directory-records.js';
import { RedisEventLog } from '../cluster/redis-event-log.js';
import type { EventLog, LoggedFrame } from '../session/event-log.js';
import { viewOf } from '../session/logged-frames.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { stateOf, TaskRecords } from './task-records.js';

/**
 * A task's frames, read back from its session's log: here when the session
 * is here, else (with Redis) from the shared log; as a page, a long poll, or
 * a stream that ends with the task.
 */
@Injectable()
export class TaskEvents {
  constructor(
    private readonly records: TaskRecords,
    private readonly sessions: SessionRegistry,
    private readonly sharedLog: RedisEventLog,
  ) {}

  /** The task's state, reply text so far and end frame, from its logged frames when they say more than the record. */
  async read(task: TaskRecord): Promise<{ record: TaskRecord; text: string; lastSeq: number }> {
    const views = (await this.framesAfter(task, 0))
      .map(viewOf)
      .filter((view) => view.msgType === 'RESPONSE' && view.requestId === task.task_id);
    const text = views.map((view) => view.text ?? '').join('');
    // The owner writes the record after the end frame; another instance may read the frame first.
    const end = views.find((view) => view.end)?.end;
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

  /**
   * The frames after `after`, then the new ones as they are logged, each
   * once and in order (the live ones are listened to before the backlog is
   * read, so none falls in between); complete after the task's end frame, or
   * at once after the backlog when the task no longer runs.
   */
  stream(task: TaskRecord, after: number): Observable<LoggedFrame> {
    return new Observable<LoggedFrame>((subscriber) => {
      let sent = after;
      let backlog: LoggedFrame[] | undefined = [];
      const emit = (frame: LoggedFrame): void => {
        if (subscriber.closed || frame.seq <= sent) return;
        sent = frame.seq;
        subscriber.next(frame);
        if (this.isEndFrame(task, frame)) subscriber.complete();
      };
      const live = this.live(task, after).subscribe({
        next: (frame) => (backlog ? backlog.push(frame) : emit(frame)),
        error: (error: unknown) => subscriber.error(error),
      });
      this.framesAfter(task, after).then(
        (frames) => {
          for (const frame of frames) emit(frame);
          const arrived = backlog ?? [];
          backlog = undefined;
          for (const frame of arrived) emit(frame);
          if (task.state !== 'running') subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => live.unsubscribe();
    });
  }

  /** Tasks read JSON: binary audio frames only exist for sockets that asked for them. */
  private async framesAfter(task: TaskRecord, after: number): Promise<LoggedFrame[]> {
    const log = this.localLog(task);
    const frames = log
      ? log.since(after).frames
      : this.sharedLog.enabled
        ? (await this.sharedLog.since(task.session_id, after)).frames
        : [];
    return frames.filter(isJson);
  }

  /** Frames after `after` as they are logged. */
  private live(task: TaskRecord, after: number): Observable<LoggedFrame> {
    const log = this.localLog(task);
    const frames$ = log ? log.appended$ : this.sharedLog.enabled ? this.sharedLog.follow(task.session_id, after) : EMPTY;
    return frames$.pipe(filter(isJson));
  }

  private isEndFrame(task: TaskRecord, frame: LoggedFrame): boolean {
    const view = viewOf(frame);
    return view.end !== undefined && view.requestId === task.task_id;
  }

  private async lastSeq(task: TaskRecord): Promise<number> {
    const log = this.localLog(task);
    return log ? log.lastSeq : this.sharedLog.enabled ? this.sharedLog.lastSeq(task.session_id) : 0;
  }

  /** The session's own log when the session is here; otherwise (with Redis) the shared one is read. */
  private localLog(task: TaskRecord): EventLog | undefined {
    const session = this.sessions.find(task.session_id);
    if (session && !session.forwarded) return session.log;
    // One process: a borrowed session may have ended before the task is forgotten; its log is kept with the task.
    return this.sharedLog.enabled ? undefined : this.records.local(task.task_id)?.session.log;
  }
}

function isJson(frame: LoggedFrame): boolean {
  return typeof frame.data === 'string';
}
