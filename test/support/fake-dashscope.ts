import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { expectClosedWithin } from './expect-cut.js';
import { own } from './test-resources.js';

/**
 * A real local WebSocket server speaking DashScope's duplex TTS protocol
 * (run-task / continue-task / finish-task in, JSON events and binary audio
 * out), which records what happens to each connection. Interrupt tests
 * assert on it: the provider closed the socket, and when.
 */
export type DashScopeBehavior =
  | {
      kind: 'speak';
      /** Audio frames per character of text (default 1); at least one frame is always sent. */
      framesPerChar?: number;
      /** Bytes per binary frame (default 3200: 100 ms of 16 kHz s16le mono). */
      frameBytes?: number;
      /** Pause between frames (default 2; 0 sends as fast as the socket drains). */
      intervalMs?: number;
      /** After this many frames, say nothing more (no task-finished either) until the client goes. */
      stallAfterFrames?: number;
    }
  /** Answers run-task with task-failed (InvalidParameter). */
  | { kind: 'fail' }
  /** Accepts the connection and never answers. */
  | { kind: 'silent' };

/** A client message as received, parsed. */
interface DashScopeMessage {
  header: { action?: string; task_id?: string; streaming?: string };
  payload: Record<string, unknown>;
}

export interface DashScopeTask {
  index: number;
  headers: IncomingMessage['headers'];
  /** The client's JSON text frames, in order. */
  messages: DashScopeMessage[];
  openedAt: number;
  audioFramesSent: number;
  /** The binary frames sent, in order, to compare with what the client got. */
  audioSent: Buffer[];
  /** We sent task-finished. */
  finished: boolean;
  /** `performance.now()` when the TCP connection closed; undefined while open. */
  socketClosedAt?: number;
  /** Resolves with `socketClosedAt`. */
  socketClosed: Promise<number>;
}

const DASHSCOPE_PATH = '/api-ws/v1/inference/';

export class FakeDashScope {
  behavior: DashScopeBehavior = { kind: 'speak' };
  readonly tasks: DashScopeTask[] = [];
  private server?: WebSocketServer;
  private waiters: { index: number; resolve: (task: DashScopeTask) => void }[] = [];
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
  task(index: number): Promise<DashScopeTask> {
    const arrived = this.tasks.at(index);
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  private handle(socket: WebSocket, req: IncomingMessage): void {
    let markClosed!: (at: number) => void;
    const task: DashScopeTask = {
      index: this.tasks.length,
      headers: req.headers,
      messages: [],
      openedAt: performance.now(),
      audioFramesSent: 0,
      audioSent: [],
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
    // continue-task texts are spoken one after the other; finish-task queues behind them.
    let speaking = Promise.resolve();
    socket.on('error', () => {}); // a reset by the client is what several tests cause on purpose
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const message = parse(data);
      if (!message) return;
      task.messages.push(message);
      const taskId = message.header.task_id ?? '';
      if (behavior.kind === 'silent') return;
      switch (message.header.action) {
        case 'run-task':
          if (behavior.kind === 'fail') {
            sendEvent(socket, taskId, 'task-failed', {
              error_code: 'InvalidParameter',
              error_message: 'fake: the voice does not exist',
            });
          } else {
            sendEvent(socket, taskId, 'task-started');
          }
          break;
        case 'continue-task': {
          const input = message.payload.input as { text?: unknown } | undefined;
          const text = typeof input?.text === 'string' ? input.text : '';
          if (behavior.kind === 'speak') speaking = speaking.then(() => speak(socket, task, taskId, text, behavior));
          break;
        }
        case 'finish-task':
          speaking = speaking.then(() => {
            if (socket.readyState !== socket.OPEN) return;
            sendEvent(socket, taskId, 'task-finished', {}, { usage: { characters: 0 } });
            task.finished = true;
          });
          break;
      }
    });
  }
}

/** The bytes of audio frame `index`: a ramp starting at the index, so a lost or swapped frame shows. */
function audioFrame(index: number, bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) frame[i] = (index + i) % 256;
  return frame;
}

async function speak(
  socket: WebSocket,
  task: DashScopeTask,
  taskId: string,
  text: string,
  behavior: Extract<DashScopeBehavior, { kind: 'speak' }>,
): Promise<void> {
  const frames = Math.max(1, text.length * (behavior.framesPerChar ?? 1));
  const frameBytes = behavior.frameBytes ?? 3200;
  const interval = behavior.intervalMs ?? 2;
  for (let i = 0; i < frames; i++) {
    if (socket.readyState !== socket.OPEN) return;
    if (i === behavior.stallAfterFrames) {
      await new Promise((resolve) => socket.once('close', resolve));
      return;
    }
    const frame = audioFrame(task.audioFramesSent, frameBytes);
    // Waiting for each frame to reach the kernel is what lets a client that
    // stops reading stall us through TCP, as it would stall DashScope.
    const sent = await new Promise<boolean>((resolve) => socket.send(frame, { binary: true }, (error) => resolve(!error)));
    if (!sent) return;
    task.audioSent.push(frame);
    task.audioFramesSent += 1;
    if (i % 10 === 9) {
      sendEvent(socket, taskId, 'result-generated', {}, { output: { sentence: { index: 0, words: [] } } });
    }
    if (interval > 0) await sleep(interval);
  }
}

function sendEvent(
  socket: WebSocket,
  taskId: string,
  event: string,
  extraHeader: Record<string, unknown> = {},
  payload: Record<string, unknown> = {},
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

/** Unref'd: a task still speaking must not keep the test process alive after stop(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Asserts that the client cut this task before task-finished (see expectClosedWithin). */
export function expectCutWithin(task: DashScopeTask, since: number, withinMs = 1000): Promise<number> {
  return expectClosedWithin(
    { label: `DashScope task ${task.index}`, socketClosed: task.socketClosed, ranToEnd: () => task.finished },
    since,
    withinMs,
  );
}
