import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { expectClosedWithin } from './expect-cut.js';
import { own } from './test-resources.js';

/**
 * A real local WebSocket server speaking DashScope's duplex realtime ASR
 * protocol (run-task, binary audio, finish-task in; task-started,
 * result-generated, task-finished or task-failed out), which records what
 * it was sent and what happens to each connection. Teardown tests assert on
 * it: the provider closed the socket, and when.
 */
export type DashScopeAsrBehavior =
  | {
      kind: 'recognize';
      /**
       * The `payload.output.sentence` of each result-generated, in order:
       * the k-th is sent once the k-th audio frame is in (results come while
       * the user speaks), those left once finish-task is (default: none).
       */
      results?: FakeSentence[];
      /** Before task-started (default 0): audio the client sends meanwhile breaks the protocol, and is recorded as such. */
      startDelayMs?: number;
      /** Between finish-task and task-finished (default 0); a long one plays a server slow to answer. */
      finishDelayMs?: number;
    }
  /** Answers run-task with task-failed. */
  | { kind: 'fail'; code?: string; message?: string }
  /** Accepts the connection and never answers. */
  | { kind: 'silent' };

export interface FakeSentence {
  text: string;
  sentence_end: boolean;
  begin_time?: number;
  end_time?: number | null;
  /** A keep-alive result carrying no text. */
  heartbeat?: boolean;
}

/** A client message as received, parsed. */
interface DashScopeMessage {
  header: { action?: string; task_id?: string; streaming?: string };
  payload: Record<string, unknown>;
}

export interface DashScopeAsrTask {
  index: number;
  headers: IncomingMessage['headers'];
  /** The client's JSON text frames, in order. */
  messages: DashScopeMessage[];
  /** The binary frames received, in order. */
  audio: Buffer[];
  /** Binary frames that came before task-started (the protocol forbids them). */
  framesBeforeStart: number;
  /** Binary frames that came after finish-task (the protocol forbids them). */
  framesAfterFinish: number;
  openedAt: number;
  /** We sent task-finished. */
  finished: boolean;
  /** `performance.now()` when the TCP connection closed; undefined while open. */
  socketClosedAt?: number;
  /** Resolves with `socketClosedAt`. */
  socketClosed: Promise<number>;
}

const DASHSCOPE_PATH = '/api-ws/v1/inference/';

export class FakeDashScopeAsr {
  behavior: DashScopeAsrBehavior = { kind: 'recognize' };
  readonly tasks: DashScopeAsrTask[] = [];
  private server?: WebSocketServer;
  private waiters: { index: number; resolve: (task: DashScopeAsrTask) => void }[] = [];
  private release = (): void => undefined;

  /** Returns the ws:// URL of the inference endpoint; other paths get HTTP 400. */
  async start(): Promise<string> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: DASHSCOPE_PATH });
    this.server = server;
    server.on('connection', (socket, req) => this.handle(socket, req));
    this.release = own(() => this.stop());
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return `${this.origin}${DASHSCOPE_PATH}`;
  }

  get origin(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `ws://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.release();
    const server = this.server;
    if (!server) return;
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The index-th connection (0-based) to reach this server, once it has arrived. */
  task(index: number): Promise<DashScopeAsrTask> {
    const arrived = this.tasks.at(index);
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  private handle(socket: WebSocket, req: IncomingMessage): void {
    let markClosed!: (at: number) => void;
    const task: DashScopeAsrTask = {
      index: this.tasks.length,
      headers: req.headers,
      messages: [],
      audio: [],
      framesBeforeStart: 0,
      framesAfterFinish: 0,
      openedAt: performance.now(),
      finished: false,
      socketClosed: new Promise((resolve) => (markClosed = resolve)),
    };
    // The TCP socket rather than the WebSocket: a terminate() by the client
    // shows here without any close handshake.
    req.socket.once('close', () => {
      task.socketClosedAt = performance.now();
      markClosed(task.socketClosedAt);
    });
    this.tasks.push(task);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.index !== task.index) return true;
      waiter.resolve(task);
      return false;
    });

    // Fixed per connection, so a test changing `behavior` mid-way affects only later ones.
    const behavior = this.behavior;
    const results = behavior.kind === 'recognize' ? [...(behavior.results ?? [])] : [];
    let taskId = '';
    let started = false;
    let finishing = false;
    socket.on('error', () => {}); // a reset by the client is what several tests cause on purpose
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        task.audio.push(Buffer.from(data as Buffer));
        if (!started) task.framesBeforeStart += 1;
        if (finishing) task.framesAfterFinish += 1;
        const result = results.shift();
        if (started && result) sendEvent(socket, taskId, 'result-generated', sentencePayload(result));
        return;
      }
      const message = parse(data);
      if (!message) return;
      task.messages.push(message);
      if (behavior.kind === 'silent') return;
      switch (message.header.action) {
        case 'run-task':
          taskId = message.header.task_id ?? '';
          if (behavior.kind === 'fail') {
            sendEvent(
              socket,
              taskId,
              'task-failed',
              {},
              { error_code: behavior.code ?? 'InvalidParameter', error_message: behavior.message ?? 'fake: bad format' },
            );
            return;
          }
          void sleep(behavior.startDelayMs ?? 0).then(() => {
            started = true;
            sendEvent(socket, taskId, 'task-started');
          });
          break;
        case 'finish-task':
          if (behavior.kind !== 'recognize') return;
          finishing = true;
          for (const result of results.splice(0)) sendEvent(socket, taskId, 'result-generated', sentencePayload(result));
          void sleep(behavior.finishDelayMs ?? 0).then(() => {
            if (socket.readyState !== socket.OPEN) return;
            sendEvent(socket, taskId, 'task-finished', { output: { sentence: null }, usage: null });
            task.finished = true;
          });
          break;
      }
    });
  }
}

function sentencePayload(sentence: FakeSentence): Record<string, unknown> {
  const { text, sentence_end, begin_time = 0, end_time = sentence_end ? 1000 : null, heartbeat = false } = sentence;
  return {
    output: { sentence: { begin_time, end_time, text, heartbeat, sentence_end, words: [] } },
    usage: sentence_end ? { duration: 1 } : null,
  };
}

function sendEvent(
  socket: WebSocket,
  taskId: string,
  event: string,
  payload: Record<string, unknown> = {},
  extraHeader: Record<string, unknown> = {},
): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify({ header: { task_id: taskId, event, attributes: {}, ...extraHeader }, payload }));
}

function parse(data: RawData): DashScopeMessage | undefined {
  try {
    const value = JSON.parse((data as Buffer).toString()) as Partial<DashScopeMessage>;
    return { header: value.header ?? {}, payload: value.payload ?? {} };
  } catch {
    return undefined;
  }
}

/** Unref'd: a task still waiting must not keep the test process alive after stop(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Asserts that the client cut this task before task-finished (see expectClosedWithin). */
export function expectAsrCutWithin(task: DashScopeAsrTask, since: number, withinMs = 1000): Promise<number> {
  return expectClosedWithin(
    { label: `DashScope ASR task ${task.index}`, socketClosed: task.socketClosed, ranToEnd: () => task.finished },
    since,
    withinMs,
  );
}
