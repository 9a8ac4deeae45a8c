import OpenAI from 'openai';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { metricValue } from './support/metric-value.js';

const ALICE_KEY = 'sk-alice-key';
const BOB_KEY = 'sk-bob-key';
const ADMIN_KEY = 'sk-ops-key';

interface UsageRecordView {
  request_id: string;
  key: string;
  api: string;
  model: string | null;
  outcome: string;
  prompt_tokens: number | null;
  completion_tokens: number;
  total_tokens: number | null;
  source: string;
}

/**
 * What chat apps need of /v1/chat/completions besides a stream: reasoning
 * models that think for long, the provider's own error codes, headers both
 * ways, their own model names, CORS, many streams per key, and usage
 * records no disconnect can dodge.
 */
describe('chat apps on /v1/chat/completions', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      LLM_MODEL_MAP: 'gpt-4o=fake',
      GATEWAY_API_KEYS: `alice:${ALICE_KEY},${BOB_KEY}`,
      GATEWAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`,
      ...env,
    });
  };
  const post = (body: unknown, init: { key?: string; headers?: Record<string, string>; path?: string; signal?: AbortSignal } = {}) =>
    fetch(`${gateway.httpUrl}${init.path ?? '/v1/chat/completions'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${init.key ?? ALICE_KEY}`, ...init.headers },
      body: JSON.stringify(body),
      ...(init.signal && { signal: init.signal }),
    });
  const ask = (extra: Record<string, unknown> = {}) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const get = async <T>(path: string, key = ADMIN_KEY): Promise<T> => {
    const response = await fetch(`${gateway.httpUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return (await response.json()) as T;
  };
  const records = async (key = ADMIN_KEY) => (await get<{ data: UsageRecordView[] }>('/v1/usage/records', key)).data;

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it('keeps a reasoning model that only thinks (delta.reasoning, SSE comments) past the first-token timeout', async () => {
    // The first-token timer is a third of the thinking time: only a reset on every event and comment lets it live.
    await start({ LLM_FIRST_TOKEN_TIMEOUT_MS: '500', LLM_IDLE_TIMEOUT_MS: '500' });
    upstream.behavior = { kind: 'stream', tokens: 3, reasoningMs: 1500 };
    const openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: ALICE_KEY, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'think' }],
      stream: true,
    });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
      reasoning += delta?.reasoning ?? '';
      content += delta?.content ?? '';
    }
    expect(reasoning).toContain('thinking');
    expect(content).toBe('t0 t1 t2 ');
  });

  it('passes the provider’s error code, type and param on, and a 429’s message and Retry-After', async () => {
    await start();
    upstream.behavior = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({
        error: {
          message: 'This model’s maximum context length is 8192 tokens',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      }),
    };
    const openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: ALICE_KEY, maxRetries: 0 });
    const refused = await openai.chat.completions
      .create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });

    upstream.behavior = {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' },
      body: JSON.stringify({ error: { message: 'Rate limit reached for gpt-4o', type: 'requests', code: 'rate_limit_exceeded' } }),
    };
    const limited = await post(ask());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(await limited.json()).toEqual({
      error: { message: 'Rate limit reached for gpt-4o', type: 'requests', code: 'rate_limit_exceeded', param: null },
    });
  });

  it('forwards the allowlisted headers both ways; its x-request-id is the body’s id; no X-Powered-By', async () => {
    await start();
    upstream.behavior = {
      kind: 'stream',
      tokens: 2,
      headers: {
        'x-request-id': 'req_upstream_1',
        'openai-processing-ms': '12',
        'x-ratelimit-limit-tokens': '1000',
        'x-secret-internal': 'no',
      },
    };
    const response = await post(ask({ stream: true }), {
      headers: {
        'openai-organization': 'org-1',
        'openai-project': 'proj-1',
        'x-request-id': 'client-req-9',
        'user-agent': 'ChatApp/1.0',
        'x-other': 'no',
      },
    });
    const text = await response.text();
    const call = await upstream.call(0);
    expect(call.headers).toMatchObject({
      'openai-organization': 'org-1',
      'openai-project': 'proj-1',
      'x-request-id': 'client-req-9',
      'user-agent': 'ChatApp/1.0',
    });
    expect(call.headers['x-other']).toBeUndefined();
    expect(call.headers.authorization).toBe(`Bearer ${DEFAULT_UPSTREAM_KEY}`);
    expect(response.headers.get('x-upstream-request-id')).toBe('req_upstream_1');
    expect(response.headers.get('openai-processing-ms')).toBe('12');
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
    expect(response.headers.get('x-secret-internal')).toBeNull();
    expect(response.headers.get('x-powered-by')).toBeNull();
    const ids = [...text.matchAll(/"id":"([^"]+)"/g)].map((match) => match[1]);
    expect(new Set(ids)).toEqual(new Set([response.headers.get('x-request-id')]));

    const whole = await post(ask());
    expect(((await whole.json()) as { id: string }).id).toBe(whole.headers.get('x-request-id'));
  });

  it('answers in the client’s model names, at both path prefixes, and refuses models off the allowlist', async () => {
    await start({ LLM_ALLOWED_MODELS: 'fake-model' });
    upstream.behavior = { kind: 'stream', tokens: 2 };
    const streamed = await (await post(ask({ model: 'gpt-4o', stream: true }), { path: '/chat/completions' })).text();
    expect((await upstream.call(0)).body.model).toBe('fake');
    expect(streamed).toContain('"model":"gpt-4o"');
    expect(streamed).not.toContain('"model":"fake"');
    const whole = (await (await post(ask({ model: 'gpt-4o' }))).json()) as { model: string };
    expect(whole.model).toBe('gpt-4o');

    const refused = await post(ask({ model: 'gpt-5-unlisted' }));
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'MODEL_NOT_FOUND', type: 'not_found_error' } });
    expect(upstream.calls).toHaveLength(2);

    const openai = new OpenAI({ baseURL: gateway.httpUrl, apiKey: ALICE_KEY, maxRetries: 0 });
    expect((await openai.models.list()).data.map((model) => model.id).sort()).toEqual(['fake-model', 'gpt-4o']);
    expect(await openai.models.retrieve('gpt-4o')).toMatchObject({ id: 'gpt-4o', object: 'model' });
    await expect(openai.models.retrieve('nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers CORS preflights for the configured origins only', async () => {
    await start({ HTTP_CORS_ORIGINS: 'https://chat.example' });
    const preflight = (origin: string) =>
      fetch(`${gateway.httpUrl}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight('https://chat.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('runs 100 streams of one key at once with the default limits', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 20, intervalMs: 10 };
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const response = await post(ask({ stream: true }));
        await response.text();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('records a client that leaves just before the usage chunk exactly like one that read it', async () => {
    await start();
    // The whole read.
    upstream.behavior = { kind: 'stream', tokens: 5, usageDelayMs: 300 };
    await (await post(ask({ stream: true }))).text();
    // The client leaves once finish_reason has come: the usage is 300 ms away.
    const abort = new AbortController();
    const response = await post(ask({ stream: true }), { signal: abort.signal });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"finish_reason":"stop"')) seen += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const [full, left] = await waitForRecords(2);
    expect(left.outcome).toBe('client_closed');
    expect(full.outcome).toBe('finished');
    const counts = ({ prompt_tokens, completion_tokens, total_tokens, source, key, api, model }: UsageRecordView) => ({
      prompt_tokens,
      completion_tokens,
      total_tokens,
      source,
      key,
      api,
      model,
    });
    expect(counts(left)).toEqual(counts(full));
    // One 499 for the one client that left, however the wait for its usage ended.
    expect(await metric('gateway_http_model_responses_total{api="openai-chat",status="499"}')).toBe('1');
    expect(counts(full)).toEqual({
      prompt_tokens: 11,
      completion_tokens: 5,
      total_tokens: 16,
      source: 'provider',
      key: 'alice',
      api: 'openai-chat',
      model: 'fake-model',
    });
  });

  it('estimates the usage of a stream cut mid-way, and keeps per-key totals that add up to the records', async () => {
    await start();
    upstream.behavior = { kind: 'stream', intervalMs: 5 };
    const abort = new AbortController();
    const response = await post(ask({ stream: true }), { key: BOB_KEY, signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    const sinceAbort = performance.now();
    abort.abort();
    await expectCutWithin(await upstream.call(0), sinceAbort);
    upstream.behavior = { kind: 'stream', tokens: 3 };
    await (await post(ask({ stream: true }))).text();
    await (await post(ask())).text();

    const all = await waitForRecords(3);
    const cut = all.find((record) => record.key !== 'alice')!;
    expect(cut).toMatchObject({ outcome: 'client_closed', source: 'estimated' });
    expect(cut.prompt_tokens).toBeGreaterThan(0);
    expect(cut.completion_tokens).toBeGreaterThan(0);

    const totals = (await get<{ data: { key: string; requests: number; prompt_tokens: number; completion_tokens: number }[] }>('/v1/usage'))
      .data;
    for (const total of totals) {
      const mine = all.filter((record) => record.key === total.key);
      expect(total.requests).toBe(mine.length);
      expect(total.prompt_tokens).toBe(mine.reduce((sum, record) => sum + (record.prompt_tokens ?? 0), 0));
      expect(total.completion_tokens).toBe(mine.reduce((sum, record) => sum + record.completion_tokens, 0));
    }
    // A key sees its own totals only; Prometheus carries names, never keys.
    expect((await get<{ data: { key: string }[] }>('/v1/usage', ALICE_KEY)).data.map((total) => total.key)).toEqual(['alice']);
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/gateway_usage_tokens_total\{key="alice",api="openai-chat",kind="completion",source="provider"\} 6/);
    expect(metrics).not.toContain(ALICE_KEY);
  });

  it('counts what a client wrote as text, special tokens included, when it cuts the stream', async () => {
    await start();
    upstream.behavior = { kind: 'stream', intervalMs: 5, words: ['<|endoftext|> ', '<|im_start|>'] };
    const abort = new AbortController();
    const response = await post(ask({ stream: true, messages: [{ role: 'user', content: 'say <|endoftext|><|im_end|>' }] }), {
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    abort.abort();
    const [record] = await waitForRecords(1);
    expect(record).toMatchObject({ outcome: 'client_closed', source: 'estimated' });
    expect(record.prompt_tokens).toBeGreaterThan(5);
    // The gateway is still there.
    expect((await fetch(`${gateway.httpUrl}/health`)).status).toBe(200);
  });

  it('never calls the upstream for a client that left while its large body was still being read', async () => {
    await start();
    upstream.behavior = { kind: 'stream', intervalMs: 5 };
    const big = 'x'.repeat(2 * 1024 * 1024);
    for (let i = 0; i < 5; i++) {
      const abort = new AbortController();
      const sent = post(ask({ stream: true, messages: [{ role: 'user', content: big }] }), { signal: abort.signal }).catch(() => undefined);
      // Gone as soon as the body is on its way: the gateway is still reading or parsing it.
      setTimeout(() => abort.abort(), 5);
      await sent;
    }
    const all = await waitForRecords(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closedBeforeCall = upstream.calls.filter((call) => call.socketClosedAt === undefined && !call.completed);
    expect(closedBeforeCall).toEqual([]);
    expect((await records()).filter((record) => record.outcome === 'finished')).toEqual(
      all.filter((record) => record.outcome === 'finished'),
    );
    expect((await get<{ data: unknown[] }>('/v1/requests')).data).toEqual([]);
  });

  it('refuses other origins in open development mode, where any page could spend the model key', async () => {
    await start({ GATEWAY_API_KEYS: '', GATEWAY_ADMIN_KEYS: '' });
    const from = (origin: string) =>
      fetch(`${gateway.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin },
        body: JSON.stringify(ask()),
      });
    const foreign = await from('https://evil.example');
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(upstream.calls).toHaveLength(0);
    expect((await from(gateway.httpUrl)).status).toBe(200);
  });

  function metric(name: string): Promise<string | undefined> {
    return metricValue(gateway.httpUrl, name);
  }

  async function waitForRecords(count: number): Promise<UsageRecordView[]> {
    for (let tries = 0; tries < 100; tries++) {
      const found = await records();
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`fewer than ${count} usage records`);
  }
});
