import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FakeSpeechServer } from '../../test/support/fake-speech-server.js';
import type { FakeUpstream } from '../../test/support/fake-upstream.js';
import { BenchClient } from '../bench-client.js';
import { sleep, type Summary, summarize, within } from '../stats.js';
import { openCallsOf, sentencesFor } from './speech.js';
import type { LoopLag, Target } from '../targets.js';

export interface ScaleOptions {
  /** Registered sessions held open at once. */
  sessions: number;
  /** Of them, how many stream a text reply at once. */
  streaming: number;
  /** How many stream a reply with speech at once, in the phase after. */
  speaking: number;
  /** Interrupts measured while they stream, per phase. */
  trials: number;
  /** The upstream's pace: one token every this many ms, per stream (40: 25 tokens/s, as a real model streams). */
  tokenIntervalMs: number;
  /** How long frames are counted while they stream. */
  measureMs: number;
}

/** One streaming phase: every streaming session busy, then `trials` interrupts on sessions picked at random. */
export interface ScalePhase {
  /** The target's event-loop delay over the counting window and the interrupts. */
  lag: LoopLag;
  /** The bench process's own (clients, fake upstream and fake speech server), over the same time. */
  driverLag: LoopLag;
  textFramesPerSecond: number;
  audioFramesPerSecond: number;
  ack: Summary;
  upstreamClosed: Summary;
  /** With speech only: interrupt→the speech server saw its socket close (calls that were cut). */
  providerClosed: Summary;
}

export interface ScaleFigures {
  bytesPerIdleSession: number;
  registrationsPerSecond: number;
  idleLag: LoopLag;
  idleDriverLag: LoopLag;
  text: ScalePhase;
  speech: ScalePhase;
  /** The target's open-file limit (soft), from /proc. */
  fileLimit: number;
}

/** Sessions opened at once: more than this at a time overflows a listen backlog (511 by default) on a busy target. */
const OPEN_BATCH = 200;
/** Streams started at once. */
const START_BATCH = 100;
/**
 * Descriptors a process of the suite holds besides one per session: an
 * upstream connection and up to two speech connections (one speaking, one
 * looking ahead) per streaming session, and slack for everything else.
 */
const SOCKETS_PER_STREAM = 3;
const SLACK_FDS = 1000;

const progress = (target: Target, step: string) => process.stderr.write(`  ${target.name}: ${step}\n`);

/** A process's open-file limit (RLIMIT_NOFILE), from /proc/<pid>/limits. */
function openFileLimit(pid: number | 'self'): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3);
  const value = (v: string | undefined) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: value(soft), hard: value(hard) };
}

/**
 * Makes room for the suite's sockets in this process's open-file limit,
 * which the targets it starts inherit: Node raises its soft limit to the
 * hard one by itself at start-up, so only a hard limit that is too low
 * needs raising, which takes privilege (CAP_SYS_RESOURCE); prlimit(1) on
 * this process tries. When it stays too low, the suite holds fewer sessions
 * and says so, rather than fail with EMFILE half-way.
 */
export function fitToFileLimit(options: ScaleOptions): ScaleOptions {
  const need = options.sessions + Math.max(options.streaming, options.speaking) * SOCKETS_PER_STREAM + SLACK_FDS;
  let limit = openFileLimit('self');
  if (limit.soft < need) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${need}:${Math.max(need, limit.hard)}`], { stdio: 'ignore' });
    } catch {
      // Not allowed (or no prlimit): what is left is said below.
    }
    limit = openFileLimit('self');
  }
  process.stderr.write(
    `scale: open files soft ${limit.soft}, hard ${limit.hard} (this process and each target needs about ${need} for ${options.sessions} sessions, ${options.streaming} streaming)\n`,
  );
  const ports = localPortRange();
  if (ports !== undefined && ports < options.sessions + options.streaming * SOCKETS_PER_STREAM) {
    process.stderr.write(`scale: WARNING: net.ipv4.ip_local_port_range holds only ${ports} ports for the bench's client sockets\n`);
  }
  if (limit.soft >= need) return options;
  const factor = (limit.soft - SLACK_FDS) / (options.sessions + options.streaming * SOCKETS_PER_STREAM);
  const fitted = {
    ...options,
    sessions: Math.max(0, Math.floor(options.sessions * factor)),
    streaming: Math.max(0, Math.floor(options.streaming * factor)),
    speaking: Math.max(0, Math.floor(options.speaking * factor)),
  };
  process.stderr.write(
    `scale: WARNING: the open-file limit (${limit.soft}) cannot hold ${options.sessions} sessions: holding ${fitted.sessions}, ${fitted.streaming} streaming. ` +
      `Raise it to at least ${need} (ulimit -n ${need}, systemd LimitNOFILE=${need}, docker --ulimit nofile=${need}:${need}).\n`,
  );
  return fitted;
}

function localPortRange(): number | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return high - low + 1;
  } catch {
    return undefined;
  }
}

/** The bench process's own event-loop delay, measured as the preload measures a target's (bench/gc-on-signal.mjs). */
function driverLoop() {
  const resolutionMs = 10;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return {
    /** The delay since the last read; the count starts over. */
    read(): LoopLag {
      const lag = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
      delay.reset();
      return lag;
    },
    stop: () => delay.disable(),
  };
}

/** The same sessions picked, in the same order, for every target (mulberry32). */
function picker(seed: number, count: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * count);
  };
}

async function openSessions(target: Target, count: number): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  while (clients.length < count) {
    const batch = Math.min(OPEN_BATCH, count - clients.length);
    const opened = Array.from({ length: batch }, () => BenchClient.open(target.wsUrl));
    clients.push(...(await within(Promise.all(opened), 60_000, `sessions ${clients.length}…${clients.length + batch}`)));
  }
  return clients;
}

interface PhaseSpec {
  prefix: string;
  /** Sessions streaming at once. */
  count: number;
  speech?: FakeSpeechServer;
}

/**
 * `spec.count` of the sessions stream at the upstream's pace; frames
 * are counted over `measureMs`, then `trials` interrupts of sessions picked
 * at random, each followed by a new request on the same session, so that as
 * many stay streaming. Every stream is stopped at the end.
 */
async function streamingPhase(
  target: Target,
  clients: BenchClient[],
  upstream: FakeUpstream,
  options: ScaleOptions,
  spec: PhaseSpec,
): Promise<ScalePhase> {
  const streamers = clients.slice(0, spec.count);
  const extra = spec.speech ? { require_tts: true } : {};
  let round = 0;
  const current = streamers.map((_, s) => `${spec.prefix}${s}r0`);
  for (let from = 0; from < streamers.length; from += START_BATCH) {
    const started = streamers.slice(from, from + START_BATCH).map((client, i) => {
      const s = from + i;
      const first = spec.speech ? client.audioFrame(current[s], 0) : client.textFrame(current[s], 0);
      client.request(current[s], extra);
      return first;
    });
    await within(Promise.all(started), 60_000, `first frames of streams ${from}…`);
  }
  await sleep(2000);

  const driver = driverLoop();
  await target.eventLoopLag(); // starts its count over
  driver.read();
  const count = () => {
    let text = 0;
    let audio = 0;
    for (const client of streamers) {
      text += client.textFrames;
      audio += client.audioFrames;
    }
    return { text, audio };
  };
  const before = count();
  const startedAt = performance.now();
  await sleep(options.measureMs);
  const after = count();
  const seconds = (performance.now() - startedAt) / 1000;

  const ack: number[] = [];
  const upstreamClosed: number[] = [];
  const providerClosed: number[] = [];
  const pick = picker(42, streamers.length);
  for (let t = 0; t < options.trials; t++) {
    const s = pick();
    const client = streamers[s];
    const id = current[s];
    const call = await within(upstream.callAsking(`(${id})`), 10_000, `upstream call of ${id}`);
    const speaking = spec.speech ? openCallsOf(spec.speech, id) : [];
    const { sentAt, ack: acked } = client.interrupt(id);
    const [ackAt, closedAt] = await within(Promise.all([acked, call.socketClosed]), 10_000, `interrupt of ${id}`);
    ack.push(ackAt - sentAt);
    upstreamClosed.push(closedAt - sentAt);
    // A call whose audio had all been sent ends normally (its keep-alive socket stays open): only cut ones count.
    const cut = speaking.filter((c) => !c.completed);
    const cutAt = await within(Promise.all(cut.map((c) => c.socketClosed)), 10_000, `speech of ${id} closed`);
    if (cutAt.length > 0) providerClosed.push(Math.max(...cutAt) - sentAt);
    round += 1;
    current[s] = `${spec.prefix}${s}r${round}`;
    client.request(current[s], extra);
    await sleep(10);
  }
  const lag = await target.eventLoopLag();
  const driverLag = driver.read();
  driver.stop();

  // Every stream stopped, and its end frame in, before the next phase.
  for (let from = 0; from < streamers.length; from += OPEN_BATCH) {
    const stopped = streamers.slice(from, from + OPEN_BATCH).map((client, i) => client.interrupt(current[from + i]).ack);
    await within(Promise.all(stopped), 30_000, `stopping streams ${from}…`);
  }
  await sleep(1000);

  return {
    lag,
    driverLag,
    textFramesPerSecond: (after.text - before.text) / seconds,
    audioFramesPerSecond: (after.audio - before.audio) / seconds,
    ack: summarize(ack),
    upstreamClosed: summarize(upstreamClosed),
    providerClosed: summarize(providerClosed),
  };
}

/**
 * Scale on one machine: `sessions` registered WebSocket sessions held at
 * once, memory per idle session, then `streaming` of them streaming text at
 * a model's pace, then the same with speech at the pace people speak (audio
 * streamed in real time), each with the target's event-loop delay, frames
 * per second received and interrupt latencies.
 */
export async function measureScale(
  target: Target,
  upstream: FakeUpstream,
  speech: FakeSpeechServer,
  options: ScaleOptions,
): Promise<ScaleFigures> {
  const fileLimit = openFileLimit(target.pid).soft;
  progress(target, `open files: soft ${fileLimit}, hard ${openFileLimit(target.pid).hard}`);
  upstream.clearCalls();
  speech.calls.length = 0;

  // Warm up first, so that code compiled on the first connections is not counted as per-session memory.
  const warmup = await openSessions(target, 100);
  for (const client of warmup) client.close();
  await sleep(500);

  progress(target, `${options.sessions} sessions registered, in batches of ${OPEN_BATCH}`);
  const before = await target.liveMemory();
  const openedAt = performance.now();
  const clients = await openSessions(target, options.sessions);
  const registrationsPerSecond = options.sessions / ((performance.now() - openedAt) / 1000);
  await sleep(500);
  const bytesPerIdleSession = ((await target.liveMemory()) - before) / options.sessions;

  progress(target, `event-loop delay with ${options.sessions} sessions idle`);
  const driver = driverLoop();
  await target.eventLoopLag();
  driver.read();
  await sleep(3000);
  const idleLag = await target.eventLoopLag();
  const idleDriverLag = driver.read();
  driver.stop();

  try {
    const tokensPerSecond = 1000 / options.tokenIntervalMs;
    progress(target, `${options.streaming} sessions stream text at ${tokensPerSecond} tokens/s; ${options.trials} interrupts`);
    upstream.behavior = { kind: 'stream', tokens: 1_000_000, intervalMs: options.tokenIntervalMs };
    const text = await streamingPhase(target, clients, upstream, options, { prefix: 'sct', count: options.streaming });

    progress(target, `${options.speaking} sessions stream text and speech (audio in real time); ${options.trials} interrupts`);
    upstream.behavior = { kind: 'stream', tokens: 1_000_000, words: sentencesFor, intervalMs: options.tokenIntervalMs };
    // 24 kHz PCM16 (48 bytes a millisecond), 100 ms of it every 100 ms: real time; about 15 characters a second, as people speak.
    speech.behavior = { kind: 'speak', bytesPerChar: 3200, chunkBytes: 4800, intervalMs: 100 };
    const spoken = await streamingPhase(target, clients, upstream, options, { prefix: 'scs', count: options.speaking, speech });

    return { bytesPerIdleSession, registrationsPerSecond, idleLag, idleDriverLag, text, speech: spoken, fileLimit };
  } finally {
    for (const client of clients) client.close();
    await sleep(500);
  }
}
