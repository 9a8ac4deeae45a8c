import { request } from 'undici';
import { type FakeUpstream } from '../../test/support/fake-upstream.js';
import { processCpuSeconds } from '../process-cpu.js';
import { sleep, type Summary, summarize, within } from '../stats.js';

/** Somewhere an OpenAI-compatible client can send a chat completion: the gateway, a peer, or the upstream itself. */
export interface HttpTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The process that serves it, whose CPU is measured; none for the upstream itself. */
  pid?: number;
}

export interface HttpOptions {
  trials: number;
  /** Tokens of the stream whose throughput is measured. */
  throughputTokens: number;
  /** Unpaced streams at once, and the tokens of each, for the aggregate throughput and CPU per chunk. */
  concurrentStreams: number;
  concurrentTokens: number;
}

export interface HttpFigures {
  /** Client abort → upstream socket closed; NaN when it never closed within the window. */
  abortClose: Summary;
  /** How many aborts left the upstream running (past the window). */
  leftRunning: number;
  ttft: Summary;
  tokensPerSecond: number;
  /** Chunks/s reaching the clients over all the concurrent unpaced streams, the upstream writing one chunk at a time. */
  concurrentChunksPerSecond: number;
  /** CPU (user and system) the serving process spent per chunk in that run, in µs; NaN without a process. */
  cpuMicrosPerChunk: number;
  /** The same, the upstream writing its chunks in bursts of BURST (as a busy server does). */
  burstChunksPerSecond: number;
  burstCpuMicrosPerChunk: number;
}

/** Chunks an upstream writes at once in the burst run. */
export const BURST = 8;

/**
 * Trials run first and not counted, for every target alike: connections and
 * JIT warm up (V8 optimises a function after some hundreds of calls; with
 * ten, the first measured trials still ran unoptimised code).
 */
const WARM_UP = 200;

/** How long an abort may take before the upstream counts as left running. */
const CLOSE_WINDOW_MS = 1000;

const body = (id: string) => JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: `bench (${id})` }], stream: true });

/** Sends a chat completion; resolves when `count` SSE events have arrived, with the time of the first. */
async function startStream(target: HttpTarget, id: string, count: number, signal?: AbortSignal) {
  const sentAt = performance.now();
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: body(id),
    signal,
  });
  if (!response.ok) throw new Error(`${target.name}: HTTP ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let firstContentAt = 0;
  let events = 0;
  let text = '';
  while (events < count) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const parts = text.split('\n\n');
    text = parts.pop()!;
    for (const part of parts) {
      if (!part.startsWith('data: ') || part === 'data: [DONE]') continue;
      if (firstContentAt === 0 && part.includes('"content":"t')) firstContentAt = performance.now();
      events += 1;
    }
  }
  return { sentAt, firstContentAt, events, reader };
}

const progress = (name: string, step: string) => process.stderr.write(`  ${name}: ${step}\n`);

export async function measureHttp(target: HttpTarget, upstream: FakeUpstream, options: HttpOptions): Promise<HttpFigures> {
  upstream.clearCalls();
  progress(target.name, `${options.trials} time-to-first-token trials`);
  upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
  const ttft: number[] = [];
  for (let i = -WARM_UP; i < options.trials; i++) {
    const { sentAt, firstContentAt, reader } = await startStream(target, `ttft-${target.name}-${i}`, 10);
    await reader.cancel().catch(() => undefined);
    if (i >= 0) ttft.push(firstContentAt - sentAt);
  }

  progress(target.name, `tokens/s over a ${options.throughputTokens}-token stream`);
  upstream.behavior = { kind: 'stream', tokens: options.throughputTokens, intervalMs: 0 };
  const started = performance.now();
  const run = await startStream(target, `tps-${target.name}`, options.throughputTokens + 2);
  const tokensPerSecond = (run.events - 2) / ((performance.now() - started) / 1000);

  progress(target.name, `${options.trials} client aborts mid-stream`);
  upstream.behavior = { kind: 'stream', tokens: 400, intervalMs: 5 };
  const abortClose: number[] = [];
  let leftRunning = 0;
  for (let i = 0; i < options.trials; i++) {
    const id = `abort-${target.name}-${i}`;
    const controller = new AbortController();
    const stream = await startStream(target, id, 4, controller.signal);
    const call = await within(upstream.callAsking(`(${id})`), 5_000, `upstream call of ${id}`);
    const abortedAt = performance.now();
    controller.abort();
    const closedAt = await Promise.race([call.socketClosed, sleep(CLOSE_WINDOW_MS).then(() => undefined)]);
    if (closedAt === undefined) leftRunning += 1;
    else abortClose.push(closedAt - abortedAt);
    await stream.reader.cancel().catch(() => undefined);
    // A target that never lets go of the upstream has shown it; no need to wait out every trial.
    if (leftRunning >= 5 && abortClose.length === 0) break;
  }

  progress(target.name, `${options.concurrentStreams} concurrent unpaced streams of ${options.concurrentTokens} tokens`);
  await concurrentRun(target, upstream, { streams: 20, tokens: 500, burst: 1 });
  const single = await concurrentRun(target, upstream, { streams: options.concurrentStreams, tokens: options.concurrentTokens, burst: 1 });
  progress(target.name, `the same, the upstream writing bursts of ${BURST} chunks`);
  const bursts = await concurrentRun(target, upstream, {
    streams: options.concurrentStreams,
    tokens: options.concurrentTokens,
    burst: BURST,
  });
  return {
    abortClose: summarize(abortClose),
    leftRunning,
    ttft: summarize(ttft),
    tokensPerSecond,
    concurrentChunksPerSecond: single.chunksPerSecond,
    cpuMicrosPerChunk: single.cpuMicrosPerChunk,
    burstChunksPerSecond: bursts.chunksPerSecond,
    burstCpuMicrosPerChunk: bursts.cpuMicrosPerChunk,
  };
}

/**
 * Many unpaced streams at once, read with undici's request() and a byte count
 * of event ends (the lightest client there is, since the bench process is
 * also the upstream): chunks/s over all, and the target's CPU per chunk.
 */
async function concurrentRun(target: HttpTarget, upstream: FakeUpstream, run: { streams: number; tokens: number; burst: number }) {
  upstream.behavior = { kind: 'stream', tokens: run.tokens, intervalMs: 0, burst: run.burst };
  const cpuBefore = target.pid === undefined ? 0 : processCpuSeconds(target.pid);
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: run.streams }, async (_, i) => {
      const answer = await request(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...target.headers },
        body: body(`concurrent-${target.name}-${i}`),
      });
      let events = 0;
      let afterNewline = false;
      for await (const bytes of answer.body as AsyncIterable<Buffer>) {
        for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) {
          if (afterNewline && at === 0) events += 1;
          else if (at > 0 && bytes[at - 1] === 10) events += 1;
        }
        afterNewline = bytes[bytes.length - 1] === 10;
      }
      return events;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const chunks = counts.reduce((sum, n) => sum + n, 0);
  const cpu = target.pid === undefined ? Number.NaN : processCpuSeconds(target.pid) - cpuBefore;
  return { chunksPerSecond: chunks / seconds, cpuMicrosPerChunk: (cpu / chunks) * 1e6 };
}
