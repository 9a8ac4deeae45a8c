import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { streamText } from 'ai';
import OpenAI from 'openai';
import { ANTHROPIC_UPSTREAM_KEY, FAKE_ANTHROPIC_INPUT_TOKENS, FakeAnthropic } from './support/fake-anthropic.js';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, messagesOf, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';
import { metricValue } from './support/metric-value.js';

const CLIENT_KEY = 'client-key';
/** TestClient's REGISTER key. */
const WS_KEY = 'test-key';
const STOPS = 20;

const texts = (count: number) => [...Array(count).keys()].map(tokenText).join('');
const ask = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model: 'fake-model',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const weatherTool: Anthropic.Tool = {
  name: 'weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic Messages /v1/messages', () => {
  let gateway: RunningGateway | undefined;
  let anthropic: Anthropic;

  const start = async (env: Record<string, string>) => {
    gateway = await startGateway({ GATEWAY_API_KEYS: `${CLIENT_KEY},${WS_KEY}`, ...env });
    anthropic = new Anthropic({ baseURL: gateway.httpUrl, apiKey: CLIENT_KEY, maxRetries: 0 });
    return gateway;
  };
  const httpUrl = () => gateway!.httpUrl;
  const post = (body: unknown, key = CLIENT_KEY) =>
    fetch(`${httpUrl()}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const metric = (name: string) => metricValue(httpUrl(), name);
  /** The metric once it reads `value`: a 499 is counted as the upstream is let go, a moment after the client left. */
  const metricReaches = async (name: string, value: string) => {
    for (let i = 0; i < 50 && (await metric(name)) !== value; i++) await sleep(20);
    return metric(name);
  };

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  describe('through an OpenAI upstream (translated)', () => {
    let upstream: FakeUpstream;

    beforeEach(async () => {
      upstream = new FakeUpstream();
      await start({
        LLM_BASE_URL: await upstream.start(),
        LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
        LLM_MODEL: 'fake-model',
        LLM_MODEL_MAP: 'claude-x=fake-model-large',
      });
    });
    afterEach(() => upstream.stop());

    it('streams a text answer as Anthropic’s events, with the usage in message_delta, and finalMessage() works', async () => {
      upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 1 };
      const stream = anthropic.messages.stream({
        ...ask({ model: 'claude-x' }),
        system: 'Be brief.',
        temperature: 0.2,
        stop_sequences: ['END'],
      });
      const events: Anthropic.MessageStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const message = await stream.finalMessage();

      expect(events.map((event) => event.type)).toEqual([
        'message_start',
        'content_block_start',
        ...Array<string>(5).fill('content_block_delta'),
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      const [startEvent] = events as [Anthropic.RawMessageStartEvent];
      // Before the provider has said, the gateway's own count of the prompt.
      expect(startEvent.message.usage.input_tokens).toBeGreaterThan(0);
      expect(events.find((event) => event.type === 'message_delta')).toMatchObject({
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 11, output_tokens: 5 },
      });
      expect(message).toMatchObject({
        id: startEvent.message.id,
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [{ type: 'text', text: texts(5) }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 11, output_tokens: 5 },
      });
      expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(upstream.calls[0].body).toMatchObject({
        model: 'fake-model-large',
        stream: true,
        max_tokens: 256,
        temperature: 0.2,
        stop: ['END'],
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      });
      expect(upstream.calls[0].headers.authorization).toBe(`Bearer ${DEFAULT_UPSTREAM_KEY}`);
    });

    it('answers a request that is not streamed with the whole message', async () => {
      upstream.behavior = { kind: 'stream', tokens: 4 };
      const message = await anthropic.messages.create(ask());
      expect(message).toEqual({
        id: expect.stringMatching(/^msg_/) as string,
        type: 'message',
        role: 'assistant',
        model: 'fake-model',
        content: [{ type: 'text', text: texts(4) }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 4 },
      });
    });

    it('streams a tool call as a tool_use block, and takes its result back as a tool message', async () => {
      upstream.behavior = {
        kind: 'stream',
        tokens: 2,
        intervalMs: 0,
        toolCalls: (body) =>
          messagesOf(body).at(-1)?.role === 'user' ? [{ id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }] : undefined,
      };
      const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Oslo?' };
      const stream = anthropic.messages.stream(ask({ messages: [question], tools: [weatherTool] }));
      const inputs: string[] = [];
      stream.on('inputJson', (partial) => inputs.push(partial));
      const message = await stream.finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        { type: 'text', text: texts(2) },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
      ]);
      expect(inputs.join('')).toBe('{"city":"Oslo"}');
      expect(upstream.calls[0].body.tools).toEqual([
        { type: 'function', function: { name: 'weather', description: 'The weather in a city', parameters: weatherTool.input_schema } },
      ]);

      // FakeUpstream refuses a tool call no tool message answers, as OpenAI does.
      const answer = await anthropic.messages.create(
        ask({
          tools: [weatherTool],
          messages: [
            question,
            { role: 'assistant', content: message.content },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'rain, 8°' }] },
          ],
        }),
      );
      expect(answer.content).toEqual([{ type: 'text', text: texts(2) }]);
      expect(messagesOf(upstream.calls[1].body)).toEqual([
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: texts(2),
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'rain, 8°' },
      ]);
    });

    it('streams through the Vercel AI SDK’s Anthropic provider', async () => {
      upstream.behavior = { kind: 'stream', tokens: 6, intervalMs: 1 };
      const provider = createAnthropic({ baseURL: `${httpUrl()}/v1`, apiKey: CLIENT_KEY });
      const result = streamText({ model: provider('claude-x'), prompt: 'hello', maxOutputTokens: 256, maxRetries: 0 });
      let text = '';
      for await (const part of result.textStream) text += part;
      expect(text).toBe(texts(6));
      expect(await result.finishReason).toBe('stop');
      expect(await result.usage).toMatchObject({ inputTokens: 11, outputTokens: 6 });
      expect(upstream.calls[0].body.model).toBe('fake-model-large');
    });

    it('ends a stream whose upstream dropped with an error event the SDK throws', async () => {
      upstream.behavior = { kind: 'drop', afterTokens: 3 };
      const stream = anthropic.messages.stream(ask());
      const error = await stream.finalMessage().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({
        type: 'error',
        error: { type: 'api_error', message: expect.any(String) as string, code: 'UPSTREAM_DISCONNECTED' },
      });
      expect(stream.currentMessage?.content).toEqual([{ type: 'text', text: texts(3) }]);
    });

    it('passes on an upstream 400 as Anthropic’s error, with the provider’s message, streamed or not', async () => {
      upstream.behavior = {
        kind: 'status',
        status: 400,
        body: '{"error":{"message":"max_tokens is too large","type":"invalid_request_error"}}',
      };
      for (const stream of [false, true]) {
        const error = await anthropic.messages.create({ ...ask({ max_tokens: 20_000 }), stream }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Anthropic.BadRequestError);
        expect(error).toMatchObject({
          status: 400,
          error: {
            type: 'error',
            error: { type: 'invalid_request_error', message: 'max_tokens is too large', code: 'UPSTREAM_BAD_REQUEST' },
          },
        });
      }
    });

    it('answers a bad key with a 401 and a bad body with a 400, in Anthropic’s format', async () => {
      const wrong = new Anthropic({ baseURL: httpUrl(), apiKey: 'wrong', maxRetries: 0 });
      const error = await wrong.messages.create(ask()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error).toMatchObject({ status: 401, error: { type: 'error', error: { type: 'authentication_error', code: 'AUTH_FAILED' } } });

      const badJson = await post('{"messages": [');
      expect(badJson.status).toBe(400);
      expect(await badJson.json()).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'The body is not valid JSON', code: 'INVALID_JSON' },
      });
      const badRole = await post({ max_tokens: 10, messages: [{ role: 'system', content: 'x' }] });
      expect(badRole.status).toBe(400);
      expect(await badRole.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', code: 'INVALID_MESSAGE', message: expect.stringContaining('messages.0.role') as string },
      });
      expect(upstream.calls).toHaveLength(0);
    });

    it('counts a prompt’s tokens', async () => {
      const counted = await anthropic.messages.countTokens({
        model: 'claude-x',
        messages: [{ role: 'user', content: 'hello there' }],
        tools: [weatherTool],
      });
      expect(counted.input_tokens).toBeGreaterThan(5);
      expect(upstream.calls).toHaveLength(0);
    });
  });

  describe('through a native Anthropic upstream (LLM_PROVIDER=anthropic)', () => {
    let upstream: FakeAnthropic;

    beforeEach(async () => {
      upstream = new FakeAnthropic();
      await start({
        LLM_PROVIDER: 'anthropic',
        LLM_BASE_URL: await upstream.start(),
        LLM_API_KEY: ANTHROPIC_UPSTREAM_KEY,
        LLM_MODEL: 'claude-up',
        LLM_MODEL_MAP: 'claude-x=claude-up-large',
      });
    });
    afterEach(() => upstream.stop());

    it('passes the client’s body and events through, with the mapped model, the gateway’s key and the client’s headers', async () => {
      upstream.behavior = {
        kind: 'stream',
        tokens: 4,
        intervalMs: 1,
        thinking: 'Let me think.',
        toolUse: { id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
      };
      const params = {
        ...ask({ model: 'claude-x' }),
        tools: [weatherTool],
        tool_choice: { type: 'auto' as const },
        metadata: { user_id: 'u-1' },
        top_k: 5,
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      };
      const stream = anthropic.messages.stream(params, { headers: { 'anthropic-beta': 'test-beta-2025-01-01' } });
      const message = await stream.finalMessage();

      expect(message).toMatchObject({
        id: expect.stringMatching(/^msg_[0-9a-f]{32}$/) as string,
        model: 'claude-x',
        content: [
          { type: 'thinking', thinking: 'Let me think.', signature: 'sig-fake' },
          { type: 'text', text: texts(4) },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: FAKE_ANTHROPIC_INPUT_TOKENS, output_tokens: 4 },
      });
      const call = upstream.calls[0];
      expect(call.body).toEqual({ ...params, model: 'claude-up-large', stream: true });
      expect(call.headers['x-api-key']).toBe(ANTHROPIC_UPSTREAM_KEY);
      expect(call.headers.authorization).toBeUndefined();
      // The SDK's own version, forwarded (the gateway's default only when the client named none).
      expect(call.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(call.headers['anthropic-beta']).toBe('test-beta-2025-01-01');
    });

    it('passes a whole message through, renamed, with the upstream’s request id beside the gateway’s', async () => {
      upstream.behavior = { kind: 'stream', tokens: 3 };
      const response = await post(ask({ model: 'claude-x' }));
      const message = (await response.json()) as Anthropic.Message;
      expect(message).toEqual({
        id: response.headers.get('x-request-id'),
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [{ type: 'text', text: texts(3) }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: FAKE_ANTHROPIC_INPUT_TOKENS, output_tokens: 3 },
      });
      expect(response.headers.get('x-upstream-request-id')).toBe('req_fake');
      expect(upstream.calls[0].body).toEqual({ ...ask(), model: 'claude-up-large' });
      expect(upstream.calls[0].headers['anthropic-version']).toBe('2023-06-01');

      const viaSdk = await anthropic.messages.create(ask());
      expect(viaSdk.content).toEqual([{ type: 'text', text: texts(3) }]);
      // A name the map does not hold goes upstream as it is.
      expect(upstream.calls[1].body.model).toBe('fake-model');
    });

    it('serves /v1/chat/completions through it too, translated, for the openai SDK', async () => {
      upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 0 };
      const openai = new OpenAI({ baseURL: `${httpUrl()}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
      const stream = await openai.chat.completions.create({
        model: 'claude-x',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(text).toBe(texts(5));
      expect(usage).toMatchObject({ prompt_tokens: FAKE_ANTHROPIC_INPUT_TOKENS, completion_tokens: 5 });
      expect(upstream.calls[0].body).toEqual({
        model: 'claude-up-large',
        max_tokens: 4096,
        system: 'Be brief.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
        stream: true,
      });

      const completion = await openai.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]).toMatchObject({ message: { content: texts(5) }, finish_reason: 'stop' });
      expect(completion.model).toBe('claude-x');
    });

    it('answers WebSocket requests, and an INTERRUPT closes the upstream socket', async () => {
      const client = await TestClient.registered(gateway!.wsUrl);
      try {
        upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 1 };
        client.request('r1', 'hello');
        expect(await client.endOf('r1')).toMatchObject({ interrupted: false });
        expect(client.textOf('r1')).toBe(texts(5));
        expect(upstream.calls[0].body).toMatchObject({ model: 'claude-up', stream: true });
        expect(upstream.calls[0].headers['x-api-key']).toBe(ANTHROPIC_UPSTREAM_KEY);

        upstream.behavior = { kind: 'stream', intervalMs: 2 };
        client.request('r2');
        const call = await upstream.call(1);
        await client.textFrames('r2', 3);
        const interruptedAt = performance.now();
        client.interrupt('r2');
        await expectCutWithin(call, interruptedAt);
        expect(await client.endOf('r2')).toMatchObject({ interrupted: true });
      } finally {
        client.close();
      }
    });

    it('passes on an upstream 400 as the upstream wrote it, and a stream’s error event as an error event', async () => {
      upstream.behavior = {
        kind: 'status',
        status: 400,
        body: '{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}',
      };
      const error = await anthropic.messages.create(ask()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect(error).toMatchObject({
        status: 400,
        error: { type: 'error', error: { type: 'invalid_request_error', message: 'messages: roles must alternate' } },
      });

      upstream.behavior = { kind: 'stream', tokens: 10, intervalMs: 0, errorAfterTokens: 2 };
      const failed = await anthropic.messages
        .stream(ask())
        .finalMessage()
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Anthropic.APIError);
      expect(failed).toMatchObject({ error: { type: 'error', error: { type: 'overloaded_error', code: 'UPSTREAM_ERROR' } } });
    });
  });

  it('routes a model the map gives to the anthropic upstream (ANTHROPIC_BASE_URL) beside an OpenAI default', async () => {
    const openaiUpstream = new FakeUpstream();
    const anthropicUpstream = new FakeAnthropic();
    try {
      await start({
        LLM_BASE_URL: await openaiUpstream.start(),
        LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
        LLM_MODEL: 'fake-model',
        ANTHROPIC_BASE_URL: await anthropicUpstream.start(),
        ANTHROPIC_API_KEY: ANTHROPIC_UPSTREAM_KEY,
        LLM_MODEL_MAP: 'claude-x=anthropic:claude-up',
      });
      anthropicUpstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
      openaiUpstream.behavior = { kind: 'stream', tokens: 2, intervalMs: 0 };

      const claude = await anthropic.messages.stream(ask({ model: 'claude-x' })).finalMessage();
      expect(claude).toMatchObject({
        model: 'claude-x',
        content: [{ type: 'text', text: texts(3) }],
        usage: { input_tokens: FAKE_ANTHROPIC_INPUT_TOKENS },
      });
      expect(anthropicUpstream.calls[0].body.model).toBe('claude-up');
      expect(anthropicUpstream.calls[0].headers['x-api-key']).toBe(ANTHROPIC_UPSTREAM_KEY);

      const other = await anthropic.messages.stream(ask({ model: 'fake-model' })).finalMessage();
      expect(other).toMatchObject({ model: 'fake-model', content: [{ type: 'text', text: texts(2) }], usage: { input_tokens: 11 } });
      expect(openaiUpstream.calls).toHaveLength(1);
      expect(anthropicUpstream.calls).toHaveLength(1);
    } finally {
      await openaiUpstream.stop();
      await anthropicUpstream.stop();
    }
  });

  /** The ways a client stops, each 20 times, through both kinds of upstream: the upstream's socket closes every time. */
  describe.each([
    ['an OpenAI upstream', 'openai'],
    ['a native Anthropic upstream', 'anthropic'],
  ] as const)('stopping, through %s', (_label, kind) => {
    let upstream: FakeUpstream | FakeAnthropic;
    /** Both fakes take this shape of behavior. */
    const behave = (behavior: { kind: 'stream'; headersDelayMs?: number; intervalMs?: number }) => {
      upstream.behavior = behavior;
    };
    const name499 = 'gateway_http_model_responses_total{api="anthropic-messages",status="499"}';

    beforeEach(async () => {
      if (kind === 'openai') {
        upstream = new FakeUpstream();
        await start({ LLM_BASE_URL: await upstream.start(), LLM_API_KEY: DEFAULT_UPSTREAM_KEY, LLM_MODEL: 'fake-model' });
      } else {
        upstream = new FakeAnthropic();
        await start({
          LLM_PROVIDER: 'anthropic',
          LLM_BASE_URL: await upstream.start(),
          LLM_API_KEY: ANTHROPIC_UPSTREAM_KEY,
          LLM_MODEL: 'fake-model',
        });
      }
    });
    afterEach(() => upstream.stop());

    it(`closes the upstream when a stream is aborted before its first byte, ${STOPS} of ${STOPS}`, async () => {
      behave({ kind: 'stream', headersDelayMs: 5000 });
      for (let i = 0; i < STOPS; i++) {
        const abort = new AbortController();
        const pending = anthropic.messages.create({ ...ask(), stream: true }, { signal: abort.signal });
        const call = await upstream.call(i);
        const abortedAt = performance.now();
        abort.abort();
        await expect(pending).rejects.toThrow(Anthropic.APIUserAbortError);
        await expectCutWithin(call, abortedAt);
      }
      expect(await metricReaches(name499, String(STOPS))).toBe(String(STOPS));
    }, 60_000);

    it(`closes the upstream when a stream is aborted mid-way with stream.abort(), ${STOPS} of ${STOPS}`, async () => {
      behave({ kind: 'stream', intervalMs: 2 });
      for (let i = 0; i < STOPS; i++) {
        const stream = anthropic.messages.stream(ask());
        const call = await upstream.call(i);
        let deltas = 0;
        let abortedAt = 0;
        const ended = (async () => {
          for await (const event of stream) {
            if (event.type === 'message_start' && i === 0) {
              // Listed while it runs, under the id its answer carries.
              const listed = (await (await fetch(`${httpUrl()}/v1/requests`, { headers: { 'x-api-key': CLIENT_KEY } })).json()) as {
                data: { request_id: string; transport: string }[];
              };
              expect(listed.data).toEqual([expect.objectContaining({ request_id: event.message.id, transport: 'http' })]);
            }
            if (event.type === 'content_block_delta' && ++deltas === 5) {
              abortedAt = performance.now();
              stream.abort();
            }
          }
        })();
        // The SDK's iterator throws the abort to whoever reads on.
        await expect(ended).rejects.toThrow(Anthropic.APIUserAbortError);
        expect(abortedAt).toBeGreaterThan(0);
        expect(stream.aborted).toBe(true);
        await expectCutWithin(call, abortedAt);
      }
      expect(await metricReaches(name499, String(STOPS))).toBe(String(STOPS));
    }, 60_000);

    it(`closes the upstream when a request that is not streamed is abandoned while waiting, ${STOPS} of ${STOPS}`, async () => {
      behave({ kind: 'stream', headersDelayMs: 5000 });
      for (let i = 0; i < STOPS; i++) {
        const abort = new AbortController();
        const pending = anthropic.messages.create(ask(), { signal: abort.signal });
        const call = await upstream.call(i);
        expect(call.body.stream).toBe(kind === 'openai' ? true : undefined);
        const abortedAt = performance.now();
        abort.abort();
        await expect(pending).rejects.toThrow(Anthropic.APIUserAbortError);
        await expectCutWithin(call, abortedAt);
      }
      expect(await metricReaches(name499, String(STOPS))).toBe(String(STOPS));
    }, 60_000);

    it('closes the upstream when the Vercel AI SDK aborts through abortSignal', async () => {
      behave({ kind: 'stream', intervalMs: 2 });
      const provider = createAnthropic({ baseURL: `${httpUrl()}/v1`, apiKey: CLIENT_KEY });
      const abort = new AbortController();
      const result = streamText({
        model: provider('fake-model'),
        prompt: 'long story',
        maxOutputTokens: 256,
        abortSignal: abort.signal,
        maxRetries: 0,
      });
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
      expect(await metricReaches(name499, '1')).toBe('1');
    });
  });
});
