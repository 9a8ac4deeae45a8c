import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnOwned } from './test-resources.js';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * The built gateway (dist/main.js, as `npm start` runs it) in a process of
 * its own, for what the testing module cannot show: signals, a crash, several
 * instances sharing a Redis.
 */
export class GatewayProcess {
  readonly logs: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: (() => void)[] = [];
  /** Where it listens (from its log). */
  port = 0;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 30, msg: line });
      }
      for (const listener of this.listeners) listener();
    });
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  }

  /** Starts one and resolves once it listens (on a free port). */
  static async start(env: Record<string, string>): Promise<GatewayProcess> {
    const child = spawnOwned(process.execPath, ['dist/main.js'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gateway = new GatewayProcess(child);
    // One that exits before it listens fails the start at once, with what it said.
    const died = gateway.exited.then(({ code, signal }) => {
      throw new Error(`the gateway exited (${String(signal ?? code)}) before listening; last lines: ${gateway.lastLines()}`);
    });
    died.catch(() => undefined);
    const listening = await Promise.race([gateway.waitForLog((line) => line.msg.startsWith('Gateway listening on'), 15_000), died]);
    gateway.port = Number(/:(\d+),/.exec(listening.msg)?.[1]);
    return gateway;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/agent`;
  }

  /** Resolves with the first log line (so far or to come) matching. */
  waitForLog(test: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const found = this.logs.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`no such log line within ${timeoutMs} ms; last lines: ${this.lastLines()}`));
      }, timeoutMs);
      const check = (): void => {
        const line = this.logs.find(test);
        if (!line) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(line);
      };
      this.listeners.push(check);
    });
  }

  private lastLines(): string {
    return this.logs
      .slice(-5)
      .map((l) => l.msg)
      .join(' | ');
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Whatever state it is in, it is gone afterwards. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
