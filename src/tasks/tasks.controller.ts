import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';
import { zodIssues } from '../common/zod-issues.js';
import { readJsonBody } from '../http/json-body.js';
import { TaskBody } from './task-body.js';
import type { TaskRecord } from '../cluster/directory-records.js';
import { TaskEvents } from './task-events.js';
import { TaskService } from './task.service.js';

const DEFAULT_POLL_MS = 25_000;
const MAX_POLL_MS = 60_000;

export interface TaskView {
  task_id: string;
  session_id: string;
  state: TaskRecord['state'];
  created_at: number;
  ended_at: number | null;
  /** The latest frame of the task's session: read events after it. */
  last_seq: number;
  text: string;
  end: TaskRecord['end'];
}

/** Durable requests over REST, for clients that poll instead of holding a socket. */
@Controller('v1/tasks')
@UseGuards(ApiKeyGuard)
export class TasksController {
  constructor(
    private readonly tasks: TaskService,
    private readonly taskEvents: TaskEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(202)
  async create(@Req() req: IncomingMessage, @CurrentIdentity() identity: Identity): Promise<TaskView> {
    const parsed = TaskBody.safeParse(await readJsonBody(req, this.config));
    if (!parsed.success) throw new GatewayError('INVALID_MESSAGE', { message: 'Invalid task', issues: zodIssues(parsed.error) });
    const { content, require_tts: requireTts, session_id: sessionId } = parsed.data;
    return this.view(this.tasks.start(identity, { text: content.text, requireTts, sessionId }));
  }

  @Get(':id')
  async state(@Param('id') id: string, @CurrentIdentity() identity: Identity): Promise<TaskView> {
    return this.view(await this.tasks.get(id, identity));
  }

  /** Frames after `after`, waiting up to `timeout_ms` (long poll) while there are none yet. */
  @Get(':id/events')
  async events(
    @Param('id') id: string,
    @Query('after') after: string | undefined,
    @Query('timeout_ms') timeoutMs: string | undefined,
    @CurrentIdentity() identity: Identity,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const task = await this.tasks.get(id, identity);
    const wait = Math.min(MAX_POLL_MS, Math.max(0, numberOr(timeoutMs, DEFAULT_POLL_MS)));
    const frames = await this.taskEvents.poll(task, numberOr(after, 0), wait);
    // The logged frames are JSON already: joined, not parsed and written again.
    const last = frames.at(-1)?.seq ?? numberOr(after, 0);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        `{"task_id":${JSON.stringify(task.task_id)},"state":"${task.state}","last_seq":${last},"events":[${frames.map((f) => f.data).join(',')}]}`,
      );
  }

  /** The same frames as server-sent events (`id` = seq); `Last-Event-ID` resumes after a reconnect. */
  @Get(':id/stream')
  async stream(
    @Param('id') id: string,
    @Query('after') after: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentIdentity() identity: Identity,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const task = await this.tasks.get(id, identity);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const subscription = this.taskEvents.stream(task, numberOr(lastEventId ?? after, 0)).subscribe({
      next: (frame) => res.write(`id: ${frame.seq}\ndata: ${frame.data as string}\n\n`),
      complete: () =>
        void this.taskEvents
          .read(task)
          .then(({ record }) => res.end(`event: end\ndata: ${JSON.stringify({ state: record.state, end: record.end })}\n\n`)),
      error: () => res.destroy(),
    });
    // The stream's reader leaving stops nothing but the stream.
    res.once('close', () => subscription.unsubscribe());
  }

  @Post(':id/stop')
  @HttpCode(200)
  async stop(@Param('id') id: string, @CurrentIdentity() identity: Identity): Promise<{ task_id: string; stopped: boolean }> {
    const task = await this.tasks.get(id, identity);
    return { task_id: task.task_id, stopped: await this.tasks.stop(task) };
  }

  private async view(task: TaskRecord): Promise<TaskView> {
    const { record, text, lastSeq } = await this.taskEvents.read(task);
    return {
      task_id: record.task_id,
      session_id: record.session_id,
      state: record.state,
      created_at: record.created_at,
      ended_at: record.ended_at,
      last_seq: lastSeq,
      text,
      end: record.end,
    };
  }
}

function numberOr(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) ? parsed : fallback;
}
