import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { isEndPayload } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { PrivateRedis } from '../support/redis-server.js';
import { sleep, TestClient } from '../support/test-client.js';

const KEY = 'outage-key';

/** Fault injection: the Redis under a gateway dies mid-stream (losing everything) and comes back. */
describe('Redis restarted under a running gateway', () => {
  let redis: PrivateRedis;
  let upstream: FakeUpstream;
  let gateway: GatewayProcess;
  let client: TestClient | undefined;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await GatewayProcess.start({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `agw-outage:${randomUUID()}:`,
      INSTANCE_ID: 'A',
      CLUSTER_INSTANCE_TTL_MS: '1000',
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      TTS_PROVIDER: 'none',
      ...env,
    });
  };

  beforeEach(async () => {
    redis = await PrivateRedis.start();
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    client?.close();
    await gateway.stop();
    await upstream.stop();
    await redis.kill();
  });

  const ready = async () => (await fetch(`${gateway.httpUrl}/ready`)).status;

  it('streams on without a gap, reports unready while Redis is away, and writes its state again when it is back', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 150, intervalMs: 10 };
    client = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: KEY }, durable: true });
    expect(await ready()).toBe(200);
    client.request('story');
    await client.textFrames('story', 20);
    const task = await fetch(`${gateway.httpUrl}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: { text: 'a task' } }),
    });
    const taskId = ((await task.json()) as { task_id: string }).task_id;

    await redis.kill();
    await client.textFrames('story', 40);
    const unready = await fetch(`${gateway.httpUrl}/ready`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toMatchObject({ error: { code: 'NOT_READY', message: expect.stringContaining('Redis') } });
    await redis.restart();

    const end = await client.endOf('story', 10_000);
    expect(end.interrupted).toBe(false);
    expect(client.textsOf('story').map((t) => t.text_stream_seq)).toEqual([...Array(150).keys()]);
    expect(client.responsesOf('story').filter(isEndPayload)).toHaveLength(1);

    // Back: ready again, and the session it owns is in the (empty, restarted) Redis again.
    const probe = new Redis(redis.url);
    try {
      let owner: string | null = null;
      for (let i = 0; i < 50 && (owner === null || (await ready()) !== 200); i++) {
        await sleep(100);
        const [key] = await probe.keys(`*session:${client.sessionId!}`);
        owner = key ? await probe.hget(key, 'owner') : null;
      }
      expect(owner).toBe('A');
      expect(await ready()).toBe(200);
      // The task ran, and maybe ended, while Redis was away: its record is there again for other instances.
      const [taskKey] = await probe.keys(`*task:${taskId}`);
      expect(taskKey).toBeDefined();
      expect(JSON.parse((await probe.get(taskKey))!)).toMatchObject({ task_id: taskId, owner: 'A' });
    } finally {
      probe.disconnect();
    }
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    client.request('again', 'and now?');
    expect((await client.endOf('again')).interrupted).toBe(false);
  });

  it('charges rate limits as messages arrive: INTERRUPTs queued behind a HISTORY that waits for a stalled Redis are not refused for the wait', async () => {
    // Half the INTERRUPT rate, over two seconds; the bucket holds two.
    await start({ RATE_LIMIT_INTERRUPTS_PER_SECOND: '10', RATE_LIMIT_INTERRUPT_BURST: '2' });
    client = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: KEY } });
    redis.pause();
    client.send('HISTORY', {});
    for (let i = 0; i < 10; i++) {
      client.interrupt();
      await sleep(200);
    }
    redis.resume();
    const c = client;
    await c.waitFor('HISTORY', () => c.frames('INTERRUPT_ACK').length + c.frames('ERROR').length === 10, { timeoutMs: 10_000 });
    expect(c.frames('ERROR').map((f) => f.payload.code)).toEqual([]);
  });
});
