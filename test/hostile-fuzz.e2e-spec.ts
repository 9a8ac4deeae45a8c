import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';
import { longestGap, sendBatch, sendUnregistered } from './fuzz/fuzz-driver.js';
import { hostileFrames, unregisteredFrames } from './fuzz/hostile-frames.js';

const KEY = 'fuzz-key';
const MAX_DEPTH = 64;
/** Generous for a suite sharing two cores with other test files; `npm run fuzz` holds it to 100 ms. */
const MAX_GAP_MS = 500;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveHeap = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(10);
  }
  return process.memoryUsage().heapUsed;
};

/**
 * Property-based: hostile frames of every kind (fast-check), on a registered
 * connection and as the first message of unregistered ones. Every frame gets
 * exactly one ERROR, in order, with its stable code; the gateway, a healthy
 * session streaming beside them and the heap all hold. A longer run is
 * `npm run fuzz`.
 */
describe('fuzzed hostile frames', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    upstream = new FakeUpstream();
    upstream.behavior = { kind: 'stream', tokens: 1_000_000, intervalMs: 10 };
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      JSON_MAX_DEPTH: String(MAX_DEPTH),
      // The fuzzer sends as fast as it can: rate limits would answer for the frames.
      RATE_LIMIT_MESSAGES_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      RATE_LIMIT_INTERRUPTS_PER_SECOND: '1000000',
      RATE_LIMIT_INTERRUPT_BURST: '1000000',
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await upstream.stop();
  });

  const registered = async () => {
    const c = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: KEY } });
    clients.push(c);
    return c;
  };

  it('answers each with exactly one ERROR of its code, keeps a healthy session streaming, and keeps the heap flat', async () => {
    const healthy = await registered();
    healthy.request('story');
    await healthy.textFrames('story', 5);
    const attacker = await registered();
    const frames = hostileFrames({ sessionId: attacker.sessionId!, maxDepth: MAX_DEPTH });
    // Warm-up: every code path compiled before the heap is measured.
    await sendBatch(attacker, fc.sample(frames, 200));
    const heapBefore = await liveHeap();
    const since = performance.now();
    let sent = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(frames, { minLength: 20, maxLength: 60 }), async (batch) => {
        sent += batch.length;
        expect(await sendBatch(attacker, batch)).toEqual([]);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(unregisteredFrames({ maxDepth: MAX_DEPTH }), async (frame) => {
        sent += 1;
        expect(await sendUnregistered(gateway.wsUrl, frame)).toBeUndefined();
      }),
      { numRuns: 60 },
    );

    expect(sent).toBeGreaterThan(1000);
    expect(attacker.frames('ERROR').filter((f) => f.payload.code === 'INTERNAL_ERROR')).toEqual([]);
    expect(longestGap(healthy, 'story', since)).toBeLessThan(MAX_GAP_MS);
    expect((await liveHeap()) - heapBefore).toBeLessThan(10 * 1024 * 1024);
    // The attacker's connection is still there, and the healthy reply was never cut.
    attacker.send('HEARTBEAT', {});
    await attacker.waitFor('HEARTBEAT', (f) => attacker.frames('HEARTBEAT').indexOf(f) === attacker.frames('HEARTBEAT').length - 1);
    expect(upstream.calls[0].socketClosedAt).toBeUndefined();
  }, 120_000);
});
