import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { sleep } from './stats.js';

/** How the bench runs our gateway: every bench client uses one key, as fast as it can, speech by the fake speech server. */
export const BENCH_GATEWAY_ENV = {
  LOG_LEVEL: 'info',
  HOST: '127.0.0.1',
  MAX_SESSIONS_PER_KEY: '1000000',
  // The instance's own caps (10,000 sessions, 20,000 sockets by default): the scale suite holds 10,000 and more.
  MAX_SESSIONS: '1000000',
  MAX_CONNECTIONS: '1000000',
  RATE_LIMIT_MESSAGES_PER_SECOND: '10000',
  RATE_LIMIT_INTERRUPTS_PER_SECOND: '10000',
  TTS_PROVIDER: 'openai',
  TTS_SAMPLE_RATE: '24000',
  TTS_CHUNK_MS: '100',
};

export interface Target {
  name: string;
  wsUrl: string;
  pid: number;
  /** Live memory (V8 heap and external buffers) after a full collection, in bytes. */
  liveMemory(): Promise<number>;
  /** The process's event-loop delay since the previous call (or its start), in ms; the count starts over. */
  eventLoopLag(): Promise<LoopLag>;
  stop(): Promise<void>;
}

export interface LoopLag {
  p50: number;
  p99: number;
  max: number;
}

interface TargetSpec {
  name: string;
  port: number;
  /** Node arguments and script; the GC hook is preloaded in front of them. */
  nodeArgs: string[];
  env: Record<string, string>;
}

/** Starts a gateway process and waits until its WebSocket endpoint accepts connections. */
export async function startTarget(spec: TargetSpec): Promise<Target> {
  const memoryFile = join(tmpdir(), `bench-memory-${spec.name}-${process.pid}.json`);
  const lagFile = join(tmpdir(), `bench-lag-${spec.name}-${process.pid}.json`);
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', './bench/gc-on-signal.mjs', ...spec.nodeArgs], {
    env: { ...process.env, ...spec.env, PORT: String(spec.port), BENCH_MEMORY_FILE: memoryFile, BENCH_LAG_FILE: lagFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const wsUrl = `ws://127.0.0.1:${spec.port}/ws/agent`;
  for (let attempt = 0; ; attempt++) {
    if (await canConnect(wsUrl)) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error(`${spec.name} did not start`);
    await sleep(100);
  }
  return {
    name: spec.name,
    wsUrl,
    pid: child.pid!,
    liveMemory: async () => {
      const usage = await reported<NodeJS.MemoryUsage>(child, 'SIGUSR2', memoryFile);
      return usage.heapUsed + usage.external;
    },
    eventLoopLag: () => reported<LoopLag>(child, 'SIGURG', lagFile),
    stop: () => killAndWait(child),
  };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function canConnect(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      socket.terminate();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What the preload (bench/gc-on-signal.mjs) writes to `file` on `signal`. */
async function reported<T>(child: ChildProcess, signal: NodeJS.Signals, file: string): Promise<T> {
  rmSync(file, { force: true });
  child.kill(signal);
  // A busy process (the floor has no backpressure and may still be flushing) can take seconds to get to it.
  for (let attempt = 0; !existsSync(file); attempt++) {
    if (attempt > 300) throw new Error(`the target did not answer ${signal}`);
    await sleep(50);
  }
  await sleep(20);
  const figures = JSON.parse(readFileSync(file, 'utf8')) as T;
  rmSync(file, { force: true });
  return figures;
}

export interface RunningProcess {
  pid: number;
  stop(): Promise<void>;
}

/** Starts a plain process and waits until `readyUrl` answers. */
export async function startHttpProcess(spec: {
  name: string;
  command: string[];
  readyUrl: string;
  env?: Record<string, string>;
}): Promise<RunningProcess> {
  const child = spawn(spec.command[0], spec.command.slice(1), {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let attempt = 0; ; attempt++) {
    const ready = await fetch(spec.readyUrl).then(
      () => true,
      () => false,
    );
    if (ready) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error(`${spec.name} did not start`);
    await sleep(100);
  }
  return { pid: child.pid!, stop: () => killAndWait(child) };
}
