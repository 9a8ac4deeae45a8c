import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocketCloseWatcher } from './socket-close-watcher.js';
import { own } from './test-resources.js';

/** What a fake provider records of every call: enough to tell whether, and when, its connection was closed. */
export interface RecordedCall {
  index: number;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** The client's port: two calls with the same one shared a keep-alive connection. */
  remotePort?: number;
  openedAt: number;
  /** The response ended normally. */
  completed: boolean;
  /** `performance.now()` when the TCP connection closed; undefined while open. */
  socketClosedAt?: number;
  /** Resolves with `socketClosedAt`. */
  socketClosed: Promise<number>;
}

/**
 * A real local HTTP server for one POST endpoint of a provider, which
 * records each call and what happens to its connection. The fake providers
 * build on it; interrupt tests assert on what it records.
 */
export abstract class RecordingHttpServer<C extends RecordedCall> {
  readonly calls: C[] = [];
  private server?: Server;
  private readonly watcher = new SocketCloseWatcher();
  private waiters: { test: (call: C) => boolean; resolve: (call: C) => void }[] = [];
  private release = (): void => undefined;

  protected constructor(
    private readonly path: string,
    private readonly apiKey: string,
  ) {}

  /** Returns the base URL, ending in /v1. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.watcher.watch(this.server);
    this.release = own(() => this.stop());
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `${this.origin}/v1`;
  }

  get origin(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.release();
    this.watcher.destroyAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The index-th call (0-based) to reach this server, once it has arrived. */
  call(index: number): Promise<C> {
    return this.callWhere((call) => call.index === index);
  }

  callWhere(test: (call: C) => boolean): Promise<C> {
    const arrived = this.calls.find(test);
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** The call with this server's own counters added. */
  protected abstract recordCall(recorded: RecordedCall): C;

  /** Whether the call carries the key: as OpenAI's API wants it, `Authorization: Bearer`, unless a provider says otherwise. */
  protected authorized(headers: IncomingMessage['headers'], apiKey: string): boolean {
    return headers.authorization === `Bearer ${apiKey}`;
  }

  /** Answers an authenticated call to the endpoint. */
  protected abstract serve(call: C, res: ServerResponse): Promise<void>;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const closed = this.watcher.closed(req.socket);
    const call = this.recordCall({
      index: this.calls.length,
      body,
      headers: req.headers,
      remotePort: req.socket.remotePort,
      openedAt: performance.now(),
      completed: false,
      socketClosed: closed,
    });
    // Whoever awaits socketClosed finds socketClosedAt set.
    call.socketClosed = closed.then((at) => (call.socketClosedAt = at));
    this.calls.push(call);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test(call)) return true;
      waiter.resolve(call);
      return false;
    });

    if (req.url !== this.path || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    if (!this.authorized(req.headers, this.apiKey)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}');
      return;
    }
    await this.serve(call, res);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
