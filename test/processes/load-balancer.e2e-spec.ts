import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { Nginx } from '../support/nginx.js';
import { deleteKeys, SHARED_REDIS_URL } from '../support/redis-server.js';
import { TestClient } from '../support/test-client.js';

const KEY = 'lb-key';

/** The topology of docker-compose.yml, as processes: nginx (deploy/nginx.conf) → two gateways → Redis. */
describe('two gateways behind nginx', () => {
  let upstream: FakeUpstream;
  let prefix: string;
  let gateways: Record<'A' | 'B', GatewayProcess>;
  let nginx: Nginx;
  const clients: TestClient[] = [];

  beforeEach(async () => {
    upstream = new FakeUpstream();
    prefix = `agw-lb:${randomUUID()}:`;
    const baseUrl = await upstream.start();
    const start = (instanceId: string) =>
      GatewayProcess.start({
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        INSTANCE_ID: instanceId,
        CLUSTER_INSTANCE_TTL_MS: '1000',
        LLM_BASE_URL: baseUrl,
        LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
        GATEWAY_API_KEYS: KEY,
        TTS_PROVIDER: 'none',
        SHUTDOWN_DEADLINE_MS: '0',
      });
    const [a, b] = await Promise.all([start('A'), start('B')]);
    gateways = { A: a, B: b };
    nginx = await Nginx.start({ 'gateway-a': a.port, 'gateway-b': b.port });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await nginx.stop();
    await Promise.all([gateways.A.stop(), gateways.B.stop()]);
    await upstream.stop();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  const registered = async (register: Record<string, unknown> = {}) => {
    const c = await TestClient.registered(nginx.wsUrl, { auth: { auth_type: 'API_KEY', api_key: KEY }, ...register });
    clients.push(c);
    return c;
  };

  /** Which instance owns the session, from the shared directory. */
  const ownerOf = async (sessionId: string): Promise<'A' | 'B'> => {
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      return (await redis.hget(`${prefix}session:${sessionId}`, 'owner')) as 'A' | 'B';
    } finally {
      redis.disconnect();
    }
  };

  it('upgrades WebSockets and passes interrupts straight through', async () => {
    const c = await registered();
    c.request('r1');
    await c.textFrames('r1', 5);
    const sentAt = performance.now();
    c.interrupt('r1');
    expect((await c.waitFor('INTERRUPT_ACK')).payload).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: ['r1'] });
    await expectCutWithin(upstream.calls[0], sentAt, 1000);
  });

  it('streams chat completions and server-sent events through as they are written', async () => {
    upstream.behavior = { kind: 'stream', tokens: 100, intervalMs: 20 };
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const response = await fetch(`${nginx.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('chat.completion.chunk');
    // The first bytes came through right away, not once a buffer had filled.
    expect(upstream.calls[0].chunksWritten).toBeLessThan(20);
    await reader.cancel();
    await expectCutWithin(upstream.calls[0], performance.now(), 2000);

    const task = (await (
      await fetch(`${nginx.httpUrl}/v1/tasks`, { method: 'POST', headers, body: '{"content":{"text":"go"}}' })
    ).json()) as {
      task_id: string;
    };
    const events = await fetch(`${nginx.httpUrl}/v1/tasks/${task.task_id}/stream`, { headers });
    const sse = events.body!.getReader();
    expect(new TextDecoder().decode((await sse.read()).value)).toMatch(/^id: \d+\ndata: /);
    expect(upstream.calls[1].chunksWritten).toBeLessThan(20);
    await sse.cancel();
  });

  it('fails over: the instance a client is on is killed, it reconnects through nginx, resumes elsewhere and learns its request was lost', async () => {
    const c = await registered({ durable: true });
    c.request('story');
    await c.textFrames('story', 5);
    const owner = await ownerOf(c.sessionId!);
    const lastSeq = Math.max(...c.received.map((r) => r.frame.seq ?? 0));

    gateways[owner].kill('SIGKILL');
    await c.closed;
    // nginx finds the dead instance refusing, and takes the other.
    const back = await TestClient.connect(nginx.wsUrl);
    clients.push(back);
    back.sessionId = c.sessionId;
    back.send('RESUME', { session_id: c.sessionId!, last_seq: lastSeq, auth: { auth_type: 'API_KEY', api_key: KEY } });
    expect((await back.waitFor('RESUME_ACK')).payload).toMatchObject({ session_id: c.sessionId, gap: false });
    expect(await ownerOf(c.sessionId!)).toBe(owner === 'A' ? 'B' : 'A');
    const end = await back.endOf('story', 10_000);
    expect(end).toMatchObject({ interrupted: false, error: { code: 'INSTANCE_LOST' } });

    // The session goes on where it now is.
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    back.request('next', 'still there?');
    expect((await back.endOf('next')).interrupted).toBe(false);
  });
});
