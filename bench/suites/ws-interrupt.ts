import type { FakeUpstream } from '../../test/support/fake-upstream.js';
import { BenchClient } from '../bench-client.js';
import { sleep, type Summary, summarize, within } from '../stats.js';
import type { Target } from '../targets.js';

export interface WsOptions {
  /** Sessions streaming at once in the loaded and throughput runs. */
  sessions: number;
  /** Interrupts measured per run. */
  trials: number;
  /** Idle sessions opened to measure memory. */
  idleSessions: number;
  /** How long the throughput run counts frames. */
  throughputMs: number;
}

export interface WsFigures {
  idleAck: Summary;
  idleClose: Summary;
  loadedAck: Summary;
  loadedClose: Summary;
  bytesPerIdleSession: number;
}

interface Sample {
  ack: number;
  close: number;
}

/** Interrupts a running request and measures INTERRUPT→ACK (client) and INTERRUPT→upstream socket closed (upstream). */
async function interruptOnce(client: BenchClient, upstream: FakeUpstream, requestId: string): Promise<Sample> {
  const call = await within(upstream.callAsking(`(${requestId})`), 10_000, `upstream call of ${requestId}`);
  const { sentAt, ack } = client.interrupt(requestId);
  const [ackAt, closedAt] = await within(Promise.all([ack, call.socketClosed]), 10_000, `interrupt of ${requestId}`);
  return { ack: ackAt - sentAt, close: closedAt - sentAt };
}

async function idleInterrupts(target: Target, upstream: FakeUpstream, trials: number): Promise<Sample[]> {
  const client = await BenchClient.open(target.wsUrl);
  const samples: Sample[] = [];
  for (let i = 0; i < trials; i++) {
    const id = `idle-${i}`;
    const third = client.textFrame(id, 2);
    client.request(id);
    await within(third, 10_000, `first frames of ${id}`);
    const end = client.endOf(id);
    samples.push(await interruptOnce(client, upstream, id));
    await within(end, 10_000, `end frame of ${id}`);
  }
  client.close();
  return samples;
}

async function loadedInterrupts(target: Target, upstream: FakeUpstream, options: WsOptions): Promise<Sample[]> {
  const clients = await Promise.all(Array.from({ length: options.sessions }, () => BenchClient.open(target.wsUrl)));
  const current = clients.map((_, s) => `load-${s}-0`);
  await Promise.all(
    clients.map((client, s) => {
      const second = client.textFrame(current[s], 1);
      client.request(current[s]);
      return within(second, 30_000, `first frames of ${current[s]}`);
    }),
  );
  const samples: Sample[] = [];
  for (let t = 0; t < options.trials; t++) {
    const s = t % clients.length;
    const client = clients[s];
    samples.push(await interruptOnce(client, upstream, current[s]));
    current[s] = `load-${s}-${t + 1}`;
    client.request(current[s]);
    await sleep(2);
  }
  for (const client of clients) client.close();
  return samples;
}

/**
 * Frames per second with every session streaming flat out. Run it last: a
 * gateway without backpressure (the floor) piles up unsent frames and stays
 * busy for a long while after the clients are gone.
 */
export async function measureThroughput(target: Target, upstream: FakeUpstream, options: WsOptions): Promise<number> {
  progress(target, `frames/s with ${options.sessions} sessions streaming flat out`);
  upstream.behavior = { kind: 'stream', intervalMs: 1, tokens: 1_000_000 };
  const clients = await Promise.all(Array.from({ length: options.sessions }, () => BenchClient.open(target.wsUrl)));
  clients.forEach((client, s) => client.request(`tp-${s}`));
  await sleep(1000);
  const count = () => clients.reduce((sum, c) => sum + c.textFrames, 0);
  const before = count();
  const startedAt = performance.now();
  await sleep(options.throughputMs);
  const frames = count() - before;
  const seconds = (performance.now() - startedAt) / 1000;
  for (const client of clients) client.close();
  return frames / seconds;
}

async function memoryPerIdleSession(target: Target, count: number): Promise<number> {
  // Warm up first, so that code compiled on the first connections is not counted as per-session memory.
  const warmup = await Promise.all(Array.from({ length: 100 }, () => BenchClient.open(target.wsUrl)));
  for (const client of warmup) client.close();
  await sleep(200);
  const before = await target.liveMemory();
  const clients: BenchClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await BenchClient.open(target.wsUrl));
  await sleep(200);
  const after = await target.liveMemory();
  for (const client of clients) client.close();
  return (after - before) / count;
}

const progress = (target: Target, step: string) => process.stderr.write(`  ${target.name}: ${step}\n`);

export async function measureWs(target: Target, upstream: FakeUpstream, options: WsOptions): Promise<WsFigures> {
  progress(target, `memory of ${options.idleSessions} idle sessions`);
  const bytesPerIdleSession = await memoryPerIdleSession(target, options.idleSessions);

  progress(target, `${options.trials} interrupts on an idle gateway`);
  upstream.behavior = { kind: 'stream', intervalMs: 10 };
  const idle = await idleInterrupts(target, upstream, options.trials);

  progress(target, `${options.trials} interrupts while ${options.sessions} sessions stream`);
  upstream.behavior = { kind: 'stream', intervalMs: 20 };
  const loaded = await loadedInterrupts(target, upstream, options);
  await sleep(300);

  return {
    idleAck: summarize(idle.map((s) => s.ack)),
    idleClose: summarize(idle.map((s) => s.close)),
    loadedAck: summarize(loaded.map((s) => s.ack)),
    loadedClose: summarize(loaded.map((s) => s.close)),
    bytesPerIdleSession,
  };
}
