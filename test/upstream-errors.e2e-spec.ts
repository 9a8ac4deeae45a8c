import { createServer } from 'node:net';
import { type ErrorCode, isEndPayload } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, type UpstreamBehavior } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { TestClient } from './support/test-client.js';
import { countTextTokens } from '../src/llm/token-count.js';

describe('a failing upstream ends its request cleanly, never a hang', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let client: TestClient;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_CONNECT_TIMEOUT_MS: '300',
      LLM_FIRST_TOKEN_TIMEOUT_MS: '600',
      LLM_IDLE_TIMEOUT_MS: '600',
      ...env,
    });
    client = await TestClient.registered(gateway.wsUrl);
  };

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
    await upstream.stop();
  });

  /** The request's ERROR and end frame, and then a new request that succeeds. */
  const expectFailure = async (code: ErrorCode) => {
    const end = await client.endOf('r1');
    expect(end).toMatchObject({ interrupted: false, error: { code } });
    const error = await client.waitFor('ERROR');
    expect(error.payload.code).toBe(code);
    expect(error.payload.request_id).toBe('r1');
    expect(client.indexOf((f) => f.msg_type === 'ERROR')).toBeLessThan(
      client.indexOf((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === 'r1' && isEndPayload(f.payload)),
    );
    upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 1 };
    client.request('r2');
    expect(await client.endOf('r2')).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    return { end, error: error.payload };
  };

  it.each<{ status: number; code: ErrorCode }>([
    { status: 500, code: 'UPSTREAM_ERROR' },
    { status: 503, code: 'UPSTREAM_ERROR' },
    { status: 429, code: 'UPSTREAM_RATE_LIMITED' },
    { status: 403, code: 'UPSTREAM_AUTH_FAILED' },
  ])('maps HTTP $status to $code without leaking the upstream body', async ({ status, code }) => {
    await start();
    upstream.behavior = { kind: 'status', status, body: '{"error":{"message":"secret internal detail sk-ab***yz"}}' };
    client.request('r1');
    const { error } = await expectFailure(code);
    expect(JSON.stringify(client.received)).not.toContain('secret internal detail');
    expect(error.message).not.toContain('secret');
  });

  it('reports a 400 with the code’s own message: the client did not write the request the provider refused', async () => {
    await start();
    upstream.behavior = { kind: 'status', status: 400, body: '{"error":{"message":"max_tokens is too large"}}' };
    client.request('r1');
    const { error } = await expectFailure('UPSTREAM_BAD_REQUEST');
    expect(error.message).toBe('The model provider rejected the request');
    expect(JSON.stringify(client.received)).not.toContain('max_tokens is too large');
  });

  it('reports a wrong upstream key as UPSTREAM_AUTH_FAILED', async () => {
    await start({ LLM_API_KEY: 'sk-wrong' });
    client.request('r1');
    const end = await client.endOf('r1');
    expect(end.error?.code).toBe('UPSTREAM_AUTH_FAILED');
  });

  it('ends a stream that drops mid-way with UPSTREAM_DISCONNECTED and the tokens it had', async () => {
    await start();
    upstream.behavior = { kind: 'drop', afterTokens: 7 };
    client.request('r1');
    const { end } = await expectFailure('UPSTREAM_DISCONNECTED');
    expect(client.textsOf('r1')).toHaveLength(7);
    expect(end.usage).toMatchObject({ completion_tokens: countTextTokens(client.textOf('r1')), source: 'estimated' });
  });

  it('ends on a garbage chunk with UPSTREAM_BAD_RESPONSE and closes the upstream itself', async () => {
    await start();
    upstream.behavior = { kind: 'garbage', afterTokens: 3 };
    client.request('r1');
    const call = await upstream.call(0);
    const startedAt = performance.now();
    await expectFailure('UPSTREAM_BAD_RESPONSE');
    await expectCutWithin(call, startedAt, 3000);
  });

  it.each<{ what: string; behavior: UpstreamBehavior }>([
    { what: 'no response headers', behavior: { kind: 'stream', headersDelayMs: 5000 } },
    { what: 'headers but no first chunk', behavior: { kind: 'stream', firstChunkDelayMs: 5000 } },
  ])('times out on $what and closes the upstream', async ({ behavior }) => {
    await start();
    upstream.behavior = behavior;
    client.request('r1');
    const call = await upstream.call(0);
    const startedAt = performance.now();
    await expectFailure('UPSTREAM_TIMEOUT');
    await expectCutWithin(call, startedAt, 3000);
  });

  it('reports an unreachable upstream as UPSTREAM_UNREACHABLE', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    gateway = await startGateway({ LLM_BASE_URL: `http://127.0.0.1:${closedPort}/v1` });
    client = await TestClient.registered(gateway.wsUrl);
    client.request('r1');
    const end = await client.endOf('r1');
    expect(end.error?.code).toBe('UPSTREAM_UNREACHABLE');
  });
});
