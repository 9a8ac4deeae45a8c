import { type AbortableAsyncIterator, type ChatResponse, type GenerateResponse, Ollama } from 'ollama';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, lastUserText, messagesOf, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep } from './support/test-client.js';
import { metricValue } from './support/metric-value.js';

const CLIENT_KEY = 'client-key';
const ADMIN_KEY = 'ops-key';
const ROUNDS = 20;
/** A 1×1 PNG, as Ollama's clients send images: bare base64. */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('Ollama API (/api/chat, /api/generate, /api/tags…)', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let ollama: Ollama;

  /** An ollama client whose every request this controller can abort, before the answer's headers too. */
  const abortableClient = (abort: AbortController) =>
    new Ollama({
      host: gateway.httpUrl,
      headers: { Authorization: `Bearer ${CLIENT_KEY}` },
      fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal }),
    });

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      LLM_MODEL_MAP: 'llama3:8b=fake-model',
      GATEWAY_API_KEYS: CLIENT_KEY,
      GATEWAY_ADMIN_KEYS: ADMIN_KEY,
      ...env,
    });
    ollama = new Ollama({ host: gateway.httpUrl, headers: { Authorization: `Bearer ${CLIENT_KEY}` } });
  };
  const post = (path: string, body: unknown, key: string | null = CLIENT_KEY) =>
    fetch(`${gateway.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const metric = async (name: string) => Number((await metricValue(gateway.httpUrl, name)) ?? 0);
  const activeRequests = async () =>
    (
      (await (await fetch(`${gateway.httpUrl}/v1/requests`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()) as {
        data: { request_id: string; transport: string }[];
      }
    ).data;

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it('streams a chat through the ollama client, the model mapped upstream and the client’s name in every part', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 6, intervalMs: 1 };
    const parts: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: 'hi' }], stream: true }))
      parts.push(part);
    expect(parts.map((part) => part.message.content).join('')).toBe([...Array(6).keys()].map(tokenText).join(''));
    expect(parts.every((part) => part.model === 'llama3:8b')).toBe(true);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({
      done: true,
      done_reason: 'stop',
      message: { role: 'assistant', content: '' },
      eval_count: 6,
      prompt_eval_count: 11,
    });
    expect(last.total_duration).toBeGreaterThan(0);
    expect(last.total_duration).toBeGreaterThanOrEqual(last.prompt_eval_duration + last.eval_duration - 1);
    expect(parts.slice(0, -1).every((part) => !part.done)).toBe(true);
    const call = upstream.calls[0];
    expect(call.body).toMatchObject({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(call.headers.authorization).toBe(`Bearer ${DEFAULT_UPSTREAM_KEY}`);
  });

  it('answers a chat that is not streamed with one object, with the upstream’s usage as the counts', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 4, intervalMs: 0 };
    const answer = await ollama.chat({
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'hi' }],
      options: { temperature: 0.3, top_p: 0.8, num_predict: 50, stop: ['END'] },
    });
    expect(answer).toMatchObject({
      model: 'llama3:8b',
      message: { role: 'assistant', content: 't0 t1 t2 t3 ' },
      done: true,
      done_reason: 'stop',
      eval_count: 4,
      prompt_eval_count: 11,
      load_duration: 0,
    });
    expect(upstream.calls[0].body).toMatchObject({ model: 'fake-model', max_tokens: 50, temperature: 0.3, top_p: 0.8, stop: ['END'] });
  });

  it('streams when the body does not say (Ollama’s default), as newline-delimited JSON', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
    const response = await post('/api/chat', { model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('x-request-id')).toMatch(/^ollama-[0-9a-f]{32}$/);
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('"done":true');
  });

  it('generates from a prompt and a system text, streamed and whole', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 0 };
    const parts: GenerateResponse[] = [];
    for await (const part of await ollama.generate({
      model: 'llama3:8b',
      prompt: 'why is the sky blue?',
      system: 'be brief',
      stream: true,
    })) {
      parts.push(part);
    }
    expect(parts.map((part) => part.response).join('')).toBe('t0 t1 t2 t3 t4 ');
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', context: [], eval_count: 5, model: 'llama3:8b' });
    expect(messagesOf(upstream.calls[0].body)).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'why is the sky blue?' },
    ]);

    const whole = await ollama.generate({ model: 'llama3:8b', prompt: 'again', options: { num_predict: 5 } });
    expect(whole).toMatchObject({ response: 't0 t1 t2 t3 t4 ', done: true, eval_count: 5, context: [] });
    expect(upstream.calls[1].body).toMatchObject({ model: 'fake-model', max_tokens: 5 });
  });

  it('lists the models, says its version, shows a listed model and 404s any other', async () => {
    await start();
    const { models } = await ollama.list();
    expect(models.map((model) => model.name)).toEqual(['fake-model', 'llama3:8b']);
    expect(models[1]).toMatchObject({
      model: 'llama3:8b',
      size: 0,
      details: { format: 'gguf', family: 'llama3', parameter_size: '', quantization_level: '' },
    });
    expect(models[1].digest).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(models[1].modified_at).getTime()).not.toBeNaN();

    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await ollama.show({ model: 'llama3:8b' })).toMatchObject({
      details: { family: 'llama3' },
      capabilities: ['completion', 'tools', 'embedding'],
    });
    // Ollama's clients write a bare name with `:latest`.
    expect(await ollama.show({ model: 'fake-model:latest' })).toMatchObject({ details: { family: 'fake-model' } });
    await expect(ollama.show({ model: 'mistral:7b' })).rejects.toMatchObject({ status_code: 404, error: "model 'mistral:7b' not found" });
    expect((await ollama.ps()).models.map((model) => model.name)).toEqual(['fake-model', 'llama3:8b']);
    expect(upstream.calls).toHaveLength(0);
  });

  it('returns a tool call in Ollama’s shape, whole, and pairs the tool’s answer with it on the next turn', async () => {
    await start();
    upstream.behavior = {
      kind: 'stream',
      tokens: 2,
      intervalMs: 0,
      toolCalls: (body) =>
        messagesOf(body).at(-1)?.role === 'user' ? [{ id: 'call_weather', name: 'get_weather', arguments: '{"city":"Paris"}' }] : undefined,
    };
    const messages = [{ role: 'user', content: 'weather in Paris?' }];
    const parts: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: 'llama3:8b', messages, tools: [WEATHER_TOOL], stream: true })) parts.push(part);
    const withCalls = parts.filter((part) => part.message.tool_calls?.length);
    expect(withCalls).toHaveLength(1);
    expect(withCalls[0].message.tool_calls).toEqual([
      { id: 'call_weather', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } },
    ]);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    expect(upstream.calls[0].body.tools).toEqual([WEATHER_TOOL]);

    // The next turn as Ollama's clients write it: the assistant's calls, then the tool's answer by name.
    const answer = await ollama.chat({
      model: 'llama3:8b',
      messages: [
        ...messages,
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: 'sunny, 21°C', tool_name: 'get_weather' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(answer.message).toEqual({ role: 'assistant', content: 't0 t1 ' });
    const [, assistant, tool] = messagesOf(upstream.calls[1].body);
    expect(assistant).toMatchObject({
      role: 'assistant',
      tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(tool).toEqual({ role: 'tool', tool_call_id: assistant.tool_calls![0].id, content: 'sunny, 21°C' });

    // Not streamed, the calls are in the one message.
    const whole = await ollama.chat({ model: 'llama3:8b', messages, tools: [WEATHER_TOOL] });
    expect(whole.message.tool_calls).toEqual([
      { id: 'call_weather', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } },
    ]);
  });

  it('passes images on as data URLs in image parts', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 1, intervalMs: 0 };
    await ollama.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: 'what is this?', images: [PIXEL] }] });
    expect(messagesOf(upstream.calls[0].body)[0].content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
    ]);
  });

  it('answers an empty chat or prompt as a model load, without calling the upstream', async () => {
    await start();
    expect(await ollama.chat({ model: 'llama3:8b', messages: [] })).toMatchObject({ model: 'llama3:8b', done: true, done_reason: 'load' });
    expect(await ollama.generate({ model: 'llama3:8b', prompt: '' })).toMatchObject({ response: '', done: true, done_reason: 'load' });
    expect(upstream.calls).toHaveLength(0);
  });

  it('answers errors as Ollama does, before the stream and within it', async () => {
    await start();
    const noKey = new Ollama({ host: gateway.httpUrl });
    await expect(noKey.list()).rejects.toMatchObject({ status_code: 401 });
    await expect(noKey.chat({ model: 'x', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status_code: 401 });
    const badBody = await post('/api/chat', { messages: [{ role: 'wizard', content: 'x' }] });
    expect(badBody.status).toBe(400);
    expect(await badBody.json()).toEqual({ error: 'Invalid chat request', code: 'INVALID_MESSAGE' });
    const notJson = await post('/api/generate', '{"prompt": ');
    expect(await notJson.json()).toEqual({ error: 'The body is not valid JSON', code: 'INVALID_JSON' });

    upstream.behavior = { kind: 'status', status: 429 };
    await expect(ollama.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: 'x' }], stream: true })).rejects.toMatchObject({
      status_code: 429,
    });

    // Mid-stream: a line `{"error": "…"}`, which the client raises.
    upstream.behavior = { kind: 'garbage', afterTokens: 3 };
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const part of await ollama.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: 'x' }], stream: true })) {
        seen.push(part.message.content);
      }
    })().catch((error: unknown) => error);
    expect(seen.join('')).toBe('t0 t1 t2 ');
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).not.toBe('');
  });

  it('serves the simulated model and its embeddings (/api/embed) without an upstream', async () => {
    gateway = await startGateway({ SIMULATED_TOKENS_PER_SECOND: '1000', SIMULATED_FIRST_TOKEN_DELAY_MS: '0', SIMULATED_REPLY_TOKENS: '8' });
    ollama = new Ollama({ host: gateway.httpUrl, headers: { Authorization: 'Bearer any' } });
    expect((await ollama.list()).models.map((model) => model.name)).toEqual(['simulated']);
    let text = '';
    let last: ChatResponse | undefined;
    for await (const part of await ollama.chat({ model: 'simulated', messages: [{ role: 'user', content: 'hello' }], stream: true })) {
      text += part.message.content;
      last = part;
    }
    expect(text).toMatch(/^Here is a longer answer/);
    expect(last).toMatchObject({ done: true, eval_count: 8 });

    const { embeddings, model, prompt_eval_count } = await ollama.embed({
      model: 'simulated',
      input: ['a knowledge base', 'a knowledge base', 'other'],
    });
    expect(model).toBe('simulated');
    expect(prompt_eval_count).toBeGreaterThan(0);
    expect(embeddings).toHaveLength(3);
    expect(embeddings[0]).toHaveLength(256);
    expect(Math.hypot(...embeddings[0])).toBeCloseTo(1, 6);
    expect(embeddings[1]).toEqual(embeddings[0]);
    expect(embeddings[2]).not.toEqual(embeddings[0]);
  });

  it('refuses /api/embed for a model whose upstream makes no embeddings', async () => {
    await start({ LLM_PROVIDER: 'anthropic' });
    await expect(ollama.embed({ model: 'llama3:8b', input: 'x' })).rejects.toMatchObject({ status_code: 400 });
    expect(upstream.calls).toHaveLength(0);
  });

  describe(`each way of stopping closes the upstream, ${ROUNDS} of ${ROUNDS}`, () => {
    /** Alternately chat and generate, so that both APIs are stopped alike. */
    const streamed = (client: Ollama, round: number): Promise<AbortableAsyncIterator<ChatResponse | GenerateResponse>> =>
      round % 2 === 0
        ? client.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: `round ${round}` }], stream: true })
        : client.generate({ model: 'llama3:8b', prompt: `round ${round}`, stream: true });
    const whole = (client: Ollama, round: number): Promise<ChatResponse | GenerateResponse> =>
      round % 2 === 0
        ? client.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: `round ${round}` }] })
        : client.generate({ model: 'llama3:8b', prompt: `round ${round}` });
    const stopped = async () =>
      (await metric('gateway_http_model_responses_total{api="ollama-chat",status="499"}')) +
      (await metric('gateway_http_model_responses_total{api="ollama-generate",status="499"}'));

    it('aborted before the first byte', async () => {
      await start();
      upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
      for (let round = 0; round < ROUNDS; round++) {
        const abort = new AbortController();
        const pending = streamed(abortableClient(abort), round);
        const call = await upstream.callAsking(`round ${round}`);
        if (round === 0) expect((await activeRequests()).map((r) => r.request_id)).toEqual([expect.stringMatching(/^ollama-/)]);
        const abortedAt = performance.now();
        abort.abort();
        await expect(pending).rejects.toThrow();
        await expectCutWithin(call, abortedAt);
      }
      await sleep(20);
      expect(await stopped()).toBe(ROUNDS);
      expect(await activeRequests()).toEqual([]);
    });

    it('aborted mid-stream, through the stream’s abort() and the client’s', async () => {
      await start();
      upstream.behavior = { kind: 'stream', intervalMs: 2 };
      for (let round = 0; round < ROUNDS; round++) {
        const stream = await streamed(ollama, round);
        const call = await upstream.callAsking(`round ${round}`);
        let parts = 0;
        let abortedAt = 0;
        try {
          for await (const _part of stream) {
            if (++parts < 5) continue;
            if (round === 0) expect((await activeRequests()).map((r) => r.transport)).toEqual(['http']);
            abortedAt = performance.now();
            if (round % 4 < 2) stream.abort();
            else ollama.abort();
            break;
          }
        } catch {
          // The client raises the abort on its next read; the upstream socket is what matters.
        }
        expect(abortedAt).toBeGreaterThan(0);
        await expectCutWithin(call, abortedAt);
        expect(call.chunksWritten).toBeGreaterThanOrEqual(5);
      }
      await sleep(20);
      expect(await stopped()).toBe(ROUNDS);
    });

    it('abandoned while waiting for an answer that is not streamed', async () => {
      await start();
      upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
      for (let round = 0; round < ROUNDS; round++) {
        const abort = new AbortController();
        const pending = whole(abortableClient(abort), round);
        const call = await upstream.callAsking(`round ${round}`);
        if (round === 1) expect(await activeRequests()).toHaveLength(1);
        const abortedAt = performance.now();
        abort.abort();
        await expect(pending).rejects.toThrow();
        await expectCutWithin(call, abortedAt);
      }
      await sleep(20);
      expect(await stopped()).toBe(ROUNDS);
      expect(lastUserText(upstream.calls[0].body)).toBe('round 0');
    });
  });
});
