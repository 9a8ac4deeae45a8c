import { spawn } from 'node:child_process';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import OpenAI from 'openai';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';
import { metricValue } from './support/metric-value.js';

const CLIENT_KEY = 'client-key';
const OTHER_KEY = 'other-key';
const ADMIN_KEY = 'ops-key';

describe('OpenAI-compatible /v1/chat/completions', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let openai: OpenAI;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      LLM_MODEL_MAP: 'gpt-4o=fake-model-large',
      GATEWAY_API_KEYS: `${CLIENT_KEY},${OTHER_KEY}`,
      GATEWAY_ADMIN_KEYS: ADMIN_KEY,
      ...env,
    });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  };
  const post = (body: unknown, key: string | null = CLIENT_KEY, signal?: AbortSignal) =>
    fetch(`${gateway.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  const metric = (name: string) => metricValue(gateway.httpUrl, name);

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it('streams a whole reply through the openai SDK, with the gateway’s key upstream and the model mapped', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 25, intervalMs: 1 };
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe([...Array(25).keys()].map(tokenText).join(''));
    const call = upstream.calls[0];
    expect(call.body).toMatchObject({ model: 'fake-model-large', stream: true, stream_options: { include_usage: true } });
    expect(call.headers.authorization).toBe(`Bearer ${DEFAULT_UPSTREAM_KEY}`);
  });

  it('passes the upstream’s chunks on unchanged and ends with [DONE]; usage only when asked for', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 0 };
    const lines = async (body: object) => (await (await post(body)).text()).split('\n\n').filter(Boolean);
    const plain = await lines({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(plain.at(-1)).toBe('data: [DONE]');
    expect(plain).toHaveLength(1 + 5 + 1 + 1); // role chunk, tokens, finish chunk, [DONE]
    expect(JSON.parse(plain[1].slice('data: '.length))).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [{ delta: { content: 't0 ' } }],
    });
    const withUsage = await lines({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(JSON.parse(withUsage.at(-2)!.slice('data: '.length))).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
    });
  });

  it('answers a request that is not streamed with the upstream’s completion', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 4 };
    const completion = await openai.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('t0 t1 t2 t3 ');
    expect(completion.usage?.completion_tokens).toBe(4);
    expect(upstream.calls[0].body.stream).toBeUndefined();
  });

  it('closes the upstream when the openai SDK aborts mid-stream, and logs it as a 499', async () => {
    await start();
    const abort = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: 'fake-model', messages: [{ role: 'user', content: 'long' }], stream: true },
      { signal: abort.signal },
    );
    const call = await upstream.call(0);
    let chunks = 0;
    let abortedAt = 0;
    try {
      for await (const _chunk of stream) {
        if (++chunks === 5) {
          abortedAt = performance.now();
          abort.abort();
        }
      }
    } catch {
      // Depending on the version the SDK ends the loop or throws; the upstream socket is what matters.
    }
    expect(abortedAt).toBeGreaterThan(0);
    await expectCutWithin(call, abortedAt);
    await sleep(20);
    expect(await metric('gateway_http_model_responses_total{api="openai-chat",status="499"}')).toBe('1');
    expect(Number(await metric('gateway_completion_tokens_total{transport="http",outcome="client_closed"}'))).toBeGreaterThanOrEqual(4);
  });

  it('closes the upstream when the Vercel AI SDK aborts through abortSignal', async () => {
    await start();
    const provider = createOpenAICompatible({ name: 'gateway', baseURL: `${gateway.httpUrl}/v1`, apiKey: CLIENT_KEY });
    const abort = new AbortController();
    const result = streamText({ model: provider('fake-model'), prompt: 'long story', abortSignal: abort.signal, maxRetries: 0 });
    const call = await upstream.call(0);
    let parts = 0;
    let abortedAt = 0;
    try {
      for await (const _text of result.textStream) {
        if (++parts === 5) {
          abortedAt = performance.now();
          abort.abort();
        }
      }
    } catch {
      // The SDK reports the abort; what matters is the upstream socket.
    }
    expect(abortedAt).toBeGreaterThan(0);
    await expectCutWithin(call, abortedAt);
  });

  it('closes the upstream when curl is killed with SIGKILL mid-stream', async () => {
    await start();
    const curl = spawn('curl', [
      '-sN',
      '-H',
      `authorization: Bearer ${CLIENT_KEY}`,
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'long' }], stream: true }),
      `${gateway.httpUrl}/v1/chat/completions`,
    ]);
    const call = await upstream.call(0);
    await new Promise<void>((resolve) => {
      let received = '';
      curl.stdout.on('data', (data: Buffer) => {
        received += data.toString();
        if (received.split('data:').length > 5) resolve();
      });
    });
    const killedAt = performance.now();
    curl.kill('SIGKILL');
    await expectCutWithin(call, killedAt);
  });

  it('closes the upstream when a request that is not streamed is abandoned while waiting', async () => {
    await start();
    upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
    const abort = new AbortController();
    const pending = post({ model: 'fake-model', messages: [{ role: 'user', content: 'slow' }] }, CLIENT_KEY, abort.signal);
    const call = await upstream.call(0);
    await sleep(50);
    const abortedAt = performance.now();
    abort.abort();
    await expect(pending).rejects.toThrow();
    await expectCutWithin(call, abortedAt);
  });

  it('closes the upstream when a stream is aborted before its first byte', async () => {
    await start();
    upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
    const abort = new AbortController();
    const pending = openai.chat.completions.create(
      { model: 'fake-model', messages: [{ role: 'user', content: 'slow' }], stream: true },
      { signal: abort.signal },
    );
    const call = await upstream.call(0);
    const abortedAt = performance.now();
    abort.abort();
    await expect(pending).rejects.toThrow();
    await expectCutWithin(call, abortedAt);
  });

  it('answers bad bodies with 400 and a clear message, and bad keys with 401', async () => {
    await start();
    const invalidJson = await post('{"model": "x", messages: ');
    expect(invalidJson.status).toBe(400);
    expect(await invalidJson.json()).toEqual({
      error: { message: 'The body is not valid JSON', type: 'invalid_request_error', code: 'INVALID_JSON', param: null },
    });
    const noMessages = await post({ model: 'x', messages: [] });
    expect(noMessages.status).toBe(400);
    expect(await noMessages.json()).toMatchObject({
      error: { code: 'INVALID_MESSAGE', issues: [{ path: 'messages', message: 'messages must not be empty' }] },
    });
    const badRole = await post({ messages: [{ role: 'wizard', content: 'x' }] });
    expect(badRole.status).toBe(400);
    expect((await post({ messages: [{ role: 'user', content: 'x' }] }, null)).status).toBe(401);
    const wrong = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 401,
    });
    expect(upstream.calls).toHaveLength(0);
  });

  it.each([429, 500, 503])('answers an upstream %i with the same status', async (status) => {
    await start();
    upstream.behavior = { kind: 'status', status };
    const error = await openai.chat.completions
      .create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], stream: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status });
  });

  it.each([301, 302, 307])('answers an upstream %i with 502: only error statuses are passed on', async (status) => {
    await start();
    upstream.behavior = { kind: 'status', status };
    const response = await post({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: 'UPSTREAM_ERROR', type: 'api_error' } });
  });

  it('passes on what an upstream 400 says about the client’s own request', async () => {
    await start();
    upstream.behavior = { kind: 'status', status: 400, body: '{"error":{"message":"max_tokens is too large"}}' };
    const response = await post({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], max_tokens: 1e6 });
    expect(response.status).toBe(400);
    // The provider's words as it wrote them; where it gave no code, the gateway's.
    expect(await response.json()).toEqual({
      error: { message: 'max_tokens is too large', type: 'invalid_request_error', code: 'UPSTREAM_BAD_REQUEST', param: null },
    });
  });

  it('limits what one key runs at once over HTTP, completions and tasks together, with an OpenAI-shaped 429', async () => {
    await start({ HTTP_MAX_CONCURRENT_PER_KEY: '1' });
    const streaming = { model: 'fake-model', messages: [{ role: 'user', content: 'long' }], stream: true };
    const abort = new AbortController();
    const first = await post(streaming, CLIENT_KEY, abort.signal);
    const reader = first.body!.getReader();
    await reader.read();

    const refused = await post(streaming);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      error: {
        message: 'At most 1 requests may run at once for one API key',
        type: 'rate_limit_error',
        code: 'CONCURRENCY_LIMITED',
        param: null,
      },
    });
    const task = (key: string) =>
      fetch(`${gateway.httpUrl}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: { text: 'a task' } }),
      });
    const refusedTask = await task(CLIENT_KEY);
    expect(refusedTask.status).toBe(429);
    expect(await refusedTask.json()).toMatchObject({ error: { code: 'CONCURRENCY_LIMITED' } });
    expect(upstream.calls).toHaveLength(1);

    // Another key has slots of its own.
    const other = await task(OTHER_KEY);
    expect(other.status).toBe(202);
    const { task_id: taskId } = (await other.json()) as { task_id: string };

    // The slot comes back when the request ends.
    const abortedAt = performance.now();
    abort.abort();
    await expectCutWithin(upstream.calls[0], abortedAt);
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
    expect((await post({ ...streaming, stream: false })).status).toBe(200);

    // A task holds its slot until it ends, here when it is stopped.
    expect((await task(OTHER_KEY)).status).toBe(429);
    const stop = await fetch(`${gateway.httpUrl}/v1/tasks/${taskId}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_KEY}` },
    });
    expect(await stop.json()).toEqual({ task_id: taskId, stopped: true });
    expect((await task(OTHER_KEY)).status).toBe(202);
  });

  it('lists the models clients may ask for', async () => {
    await start();
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model', 'gpt-4o']);
  });

  it('lets an operator see and cancel active requests, WebSocket and HTTP alike', async () => {
    await start();
    const ws = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: CLIENT_KEY } });
    try {
      ws.request('ws-1');
      const wsCall = await upstream.call(0);
      const httpResponse = await post({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], stream: true });
      const httpCall = await upstream.call(1);
      const reader = httpResponse.body!.getReader();
      await reader.read();

      const list = async (key: string) =>
        (
          (await (await fetch(`${gateway.httpUrl}/v1/requests`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
            data: { id: string; request_id: string; transport: string }[];
          }
        ).data;
      const mine = await list(CLIENT_KEY);
      expect(mine.map((r) => r.transport).sort()).toEqual(['http', 'ws']);
      expect(Object.keys(mine[0]).sort()).toEqual([
        'age_ms',
        'api',
        'completion_tokens',
        'id',
        'model',
        'request_id',
        'session_id',
        'started_at',
        'transport',
        'user_id',
      ]);
      expect(await list(OTHER_KEY)).toEqual([]);
      expect(await list(ADMIN_KEY)).toHaveLength(2);

      const cancel = (id: string, key: string) =>
        fetch(`${gateway.httpUrl}/v1/requests/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      const wsHandle = mine.find((r) => r.transport === 'ws')!.id;
      expect((await cancel(wsHandle, OTHER_KEY)).status).toBe(404);
      const startedAt = performance.now();
      expect(await (await cancel(wsHandle, ADMIN_KEY)).json()).toEqual({ id: wsHandle, cancelled: true });
      await expectCutWithin(wsCall, startedAt);
      expect(await ws.endOf('ws-1')).toMatchObject({ interrupted: true, interrupt_reason: 'OPERATOR_CANCELLED' });

      const httpHandle = mine.find((r) => r.transport === 'http')!.id;
      expect((await cancel(httpHandle, CLIENT_KEY)).status).toBe(200);
      await expectCutWithin(httpCall, startedAt, 2000);
      let rest = '';
      for (let part = await reader.read(); !part.done; part = await reader.read()) rest += new TextDecoder().decode(part.value);
      expect(rest).toContain('"code":"REQUEST_CANCELLED"');
      expect(await list(ADMIN_KEY)).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it('serves the simulated model too, streamed and whole', async () => {
    await gateway.close();
    gateway = await startGateway({ SIMULATED_TOKENS_PER_SECOND: '1000', SIMULATED_FIRST_TOKEN_DELAY_MS: '0', SIMULATED_REPLY_TOKENS: '8' });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'any', maxRetries: 0 });
    expect((await openai.models.list()).data.map((m) => m.id)).toEqual(['simulated']);
    const stream = await openai.chat.completions.create({
      model: 'simulated',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toMatch(/^Here is a longer answer/);
    expect(usage).toMatchObject({ completion_tokens: 8 });
    const whole = await openai.chat.completions.create({ model: 'simulated', messages: [{ role: 'user', content: 'hello' }] });
    expect(whole.choices[0]?.message.content).toBe(text);
    expect(whole.choices[0]?.finish_reason).toBe('stop');
  });
});
