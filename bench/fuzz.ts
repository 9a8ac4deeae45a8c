/**
 * `npm run fuzz`: a long run of the fuzz suite (test/hostile-fuzz.e2e-spec.ts)
 * against the built gateway as a process, as deployed: FUZZ_FRAMES hostile
 * frames (100,000), in batches on a registered connection and one in twenty
 * as the first message of a fresh one, while a healthy session streams a
 * reply beside them. Prints crashes, frames answered otherwise than with
 * their one expected ERROR, live heap growth after full collections, and the
 * healthy session's longest gap between frames. FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from '../test/support/fake-upstream.js';
import { TestClient } from '../test/support/test-client.js';
import { longestGap, type Mismatch, sendBatch, sendUnregistered } from '../test/fuzz/fuzz-driver.js';
import { hostileFrames, unregisteredFrames } from '../test/fuzz/hostile-frames.js';
import { startTarget } from './targets.js';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const BATCH = 50;
const MAX_DEPTH = 64;
const KEY = 'fuzz-key';
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const upstream = new FakeUpstream();
  upstream.behavior = { kind: 'stream', tokens: 100_000_000, intervalMs: 10 };
  const target = await startTarget({
    name: 'gateway',
    port: 18300,
    nodeArgs: ['dist/main.js'],
    env: {
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      LOG_LEVEL: 'warn',
      TTS_PROVIDER: 'none',
      JSON_MAX_DEPTH: String(MAX_DEPTH),
      RATE_LIMIT_MESSAGES_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      RATE_LIMIT_INTERRUPTS_PER_SECOND: '1000000',
      RATE_LIMIT_INTERRUPT_BURST: '1000000',
    },
  });
  const alive = () => {
    try {
      process.kill(target.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const auth = { auth_type: 'API_KEY', api_key: KEY };
  const healthy = await TestClient.registered(target.wsUrl, { auth });
  healthy.request('story');
  await healthy.textFrames('story', 5);
  const attacker = await TestClient.registered(target.wsUrl, { auth });
  const registered = hostileFrames({ sessionId: attacker.sessionId!, maxDepth: MAX_DEPTH });
  const unregistered = unregisteredFrames({ maxDepth: MAX_DEPTH });

  await sendBatch(attacker, fc.sample(registered, { numRuns: 1000, seed: SEED - 1 }));
  const heapBefore = await target.liveMemory();
  const startedAt = performance.now();
  const mismatches: Mismatch[] = [];
  let sent = 0;
  for (let batch = 0; sent < FRAMES && alive(); batch++) {
    if (batch % 20 === 19) {
      const [frame] = fc.sample(unregistered, { numRuns: 1, seed: SEED + batch });
      const mismatch = await sendUnregistered(target.wsUrl, frame);
      if (mismatch) mismatches.push(mismatch);
      sent += 1;
      continue;
    }
    const frames = fc.sample(registered, { numRuns: BATCH, seed: SEED + batch });
    mismatches.push(...(await sendBatch(attacker, frames)));
    sent += frames.length;
    // Only the figures are kept: the client would otherwise hold every answer.
    attacker.received.length = 0;
    if (batch % 200 === 0) process.stderr.write(`${sent} frames…\n`);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const crashed = !alive();
  const heapAfter = crashed ? Number.NaN : await target.liveMemory();
  const gap = longestGap(healthy, 'story', startedAt);
  const cut = upstream.calls[0].socketClosedAt !== undefined;
  healthy.close();
  attacker.close();
  await target.stop();
  await upstream.stop();

  const rows = [
    ['hostile frames sent', String(sent), 'FUZZ_FRAMES'],
    ['gateway crashes', crashed ? '1' : '0', '0'],
    ['frames answered otherwise than with their one ERROR', String(mismatches.length), '0'],
    ['live heap growth after full GC', `${((heapAfter - heapBefore) / MiB).toFixed(2)} MiB`, '< 10 MiB'],
    ['healthy session: longest gap between frames', `${gap.toFixed(1)} ms`, '< 100 ms'],
    ['healthy session: reply cut', cut ? 'yes' : 'no', 'no'],
    ['frames per second (with a HEARTBEAT round trip per 50)', String(Math.round(sent / seconds)), ''],
  ];
  process.stdout.write(
    `\nFuzz run, seed ${SEED}:\n\n| figure | value | target |\n|---|---:|---:|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
  );
  for (const mismatch of mismatches.slice(0, 20)) process.stdout.write(`  ${JSON.stringify(mismatch)}\n`);
  const failed = crashed || mismatches.length > 0 || heapAfter - heapBefore >= 10 * MiB || gap >= 100 || cut;
  process.exitCode = failed ? 1 : 0;
}

await main();
