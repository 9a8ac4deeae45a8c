import { sleep, type Summary, summarize, within } from '../stats.js';
import { writeTable } from '../report.js';

/** A fake provider the calls reach: told to stream, and asked which call carried a text and when its socket closed. */
export interface BenchUpstream {
  streamTokens(tokens: number, intervalMs: number): void;
  callAsking(text: string): Promise<{ socketClosed: Promise<number> }>;
}

/** One client API at one address: how to ask it for a stream, in its own format. */
export interface ApiTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: (prompt: string) => object;
}

export interface ApiFigures {
  /** Client abort → upstream socket closed. */
  abortClose: Summary;
  /** Aborts that left the upstream running past the window. */
  leftRunning: number;
  /** Request sent → first token's bytes read. */
  ttft: Summary;
}

/** Calls made first and not counted, for every target alike: connections and JIT warm up. */
const WARM_UP = 30;
const CLOSE_WINDOW_MS = 1000;
/** The fake upstreams' first token is `t0 `: whatever the format, its bytes are the first content. */
const FIRST_TOKEN = 't0 ';

async function startStream(target: ApiTarget, prompt: string, signal?: AbortSignal) {
  const sentAt = performance.now();
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(target.body(prompt)),
    signal,
  });
  if (!response.ok) throw new Error(`${target.name}: HTTP ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(FIRST_TOKEN)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${target.name}: the stream ended before its first token`);
    text += decoder.decode(value, { stream: true });
  }
  return { sentAt, firstTokenAt: performance.now(), reader };
}

/**
 * For one client API: time to first token, and how fast the upstream is let
 * go when the client aborts mid-stream, in `trials` sequential calls each.
 */
export async function measureApi(target: ApiTarget, upstream: BenchUpstream, trials: number): Promise<ApiFigures> {
  process.stderr.write(`  ${target.name}: ${trials} time-to-first-token trials, ${trials} aborts\n`);
  upstream.streamTokens(3, 0);
  const ttft: number[] = [];
  for (let i = -WARM_UP; i < trials; i++) {
    const { sentAt, firstTokenAt, reader } = await startStream(target, `ttft ${target.name} (${i})`);
    await reader.cancel().catch(() => undefined);
    if (i >= 0) ttft.push(firstTokenAt - sentAt);
  }
  upstream.streamTokens(400, 5);
  const abortClose: number[] = [];
  let leftRunning = 0;
  for (let i = 0; i < trials; i++) {
    const id = `(abort-${target.name}-${i})`;
    const controller = new AbortController();
    const stream = await startStream(target, `abort ${id}`, controller.signal);
    const call = await within(upstream.callAsking(id), 5_000, `upstream call of ${id}`);
    const abortedAt = performance.now();
    controller.abort();
    const closedAt = await Promise.race([call.socketClosed, sleep(CLOSE_WINDOW_MS).then(() => undefined)]);
    if (closedAt === undefined) leftRunning += 1;
    else abortClose.push(closedAt - abortedAt);
    await stream.reader.cancel().catch(() => undefined);
  }
  return { abortClose: summarize(abortClose), leftRunning, ttft: summarize(ttft) };
}

/** The request each client API streams with, as its own SDK would send it. */
export const API_BODIES: Record<string, (model: string) => (prompt: string) => object> = {
  'openai-chat': (model) => (prompt) => ({ model, stream: true, messages: [{ role: 'user', content: prompt }] }),
  'openai-responses': (model) => (prompt) => ({ model, stream: true, input: prompt }),
  'anthropic-messages': (model) => (prompt) => ({ model, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: prompt }] }),
  'ollama-chat': (model) => (prompt) => ({ model, stream: true, messages: [{ role: 'user', content: prompt }] }),
};

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a');
const added = (value: number) => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(2)} ms`;

/** One table: each API through the gateway beside the floor proxy and the upstream itself (chat completions, the same bytes). */
export function printApiTable(gateway: Record<string, ApiFigures>, floor: ApiFigures, direct: ApiFigures, trials: number): void {
  const abort = (f: ApiFigures, p: 'p50' | 'p99') =>
    (f.abortClose.n === 0 ? 'never' : ms(f.abortClose[p])) + (f.leftRunning ? ` (${f.leftRunning} left running)` : '');
  const rows = Object.entries(gateway).map(([name, f]) => [
    name,
    abort(f, 'p50'),
    abort(f, 'p99'),
    ms(f.ttft.p50),
    ms(f.ttft.p99),
    added(f.ttft.p50 - direct.ttft.p50),
  ]);
  rows.push([
    'floor proxy (chat completions)',
    abort(floor, 'p50'),
    abort(floor, 'p99'),
    ms(floor.ttft.p50),
    ms(floor.ttft.p99),
    added(floor.ttft.p50 - direct.ttft.p50),
  ]);
  rows.push(['direct to the upstream', '—', '—', ms(direct.ttft.p50), ms(direct.ttft.p99), '']);
  const lines = [
    `| client API (${trials} trials each) | abort→upstream closed p50 | p99 | time to first token p50 | p99 | added to first token, p50 |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  writeTable(lines);
}
