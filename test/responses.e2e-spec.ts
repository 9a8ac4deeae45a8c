import type { EventSourceMessage } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import OpenAI from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, messagesOf, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep } from './support/test-client.js';
import { metricValue } from './support/metric-value.js';

const CLIENT_KEY = 'client-key';
const ROUNDS = 20;
const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('OpenAI Responses API /v1/responses', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let openai: OpenAI;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      LLM_MODEL_MAP: 'gpt-x=fake-model',
      GATEWAY_API_KEYS: CLIENT_KEY,
      ...env,
    });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  };
  const post = (path: string, body: unknown) =>
    fetch(`${gateway.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify(body),
    });
  const metric = (name: string) => metricValue(gateway.httpUrl, name);
  const closedRequests = () => metric('gateway_http_model_responses_total{api="openai-responses",status="499"}');

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it('streams text events as the SDK types them, numbered, with the model mapped and the usage at the end', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 25, intervalMs: 1 };
    const { data: stream, response: http } = await openai.responses
      .create({ model: 'gpt-x', instructions: 'Be brief.', input: 'hi', max_output_tokens: 100, stream: true })
      .withResponse();
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    const types = [...new Set(events.map((event) => event.type))];
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual([...events.keys()]);
    const text = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('');
    expect(text).toBe([...Array(25).keys()].map(tokenText).join(''));
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error(`ended with ${completed?.type}`);
    expect(completed.response).toMatchObject({
      id: http.headers.get('x-request-id'),
      object: 'response',
      status: 'completed',
      model: 'gpt-x',
      instructions: 'Be brief.',
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] }],
      usage: {
        input_tokens: 11,
        output_tokens: 25,
        total_tokens: 36,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(completed.response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(upstream.calls[0].body).toMatchObject({
      model: 'fake-model',
      stream: true,
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('gives the stream helper’s finalResponse() and output_text, also under /responses without /v1', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 6, intervalMs: 0 };
    const stream = openai.responses.stream({ model: 'gpt-x', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] });
    let deltas = '';
    stream.on('response.output_text.delta', (event) => (deltas += event.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('t0 t1 t2 t3 t4 t5 ');
    expect(deltas).toBe(final.output_text);
    expect(final.usage).toMatchObject({ input_tokens: 11, output_tokens: 6 });

    const bare = new OpenAI({ baseURL: gateway.httpUrl, apiKey: CLIENT_KEY, maxRetries: 0 });
    expect((await bare.responses.create({ model: 'gpt-x', input: 'hi' })).output_text).toBe('t0 t1 t2 t3 t4 t5 ');
  });

  it('names each server-sent event by its type, and ends without [DONE]', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
    const response = await post('/v1/responses', { model: 'gpt-x', input: 'hi', stream: true });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const messages: EventSourceMessage[] = [];
    for await (const message of response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()))
      messages.push(message);
    expect(messages.length).toBeGreaterThan(3);
    for (const message of messages) expect(message.event).toBe((JSON.parse(message.data) as { type: string }).type);
    expect(messages.at(-1)?.event).toBe('response.completed');
  });

  it('answers a request that is not streamed with the whole response', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 4 };
    const response = await openai.responses.create({ model: 'gpt-x', input: 'hi', temperature: 0.5 });
    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-x',
      temperature: 0.5,
      error: null,
      incomplete_details: null,
      usage: { input_tokens: 11, output_tokens: 4, total_tokens: 15 },
    });
    expect(response.output_text).toBe('t0 t1 t2 t3 ');
    expect(upstream.calls[0].body).toMatchObject({ model: 'fake-model', temperature: 0.5 });
  });

  it('makes a function call round trip: the call streamed as a function_call item, its output sent back as a tool message', async () => {
    await start();
    const answered = (body: Record<string, unknown>) => messagesOf(body).some((message) => message.role === 'tool');
    upstream.behavior = {
      kind: 'stream',
      intervalMs: 0,
      tokens: (body) => (answered(body) ? 3 : 0),
      toolCalls: (body) => (answered(body) ? undefined : [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }]),
    };
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = openai.responses.stream({ model: 'gpt-x', input, tools: [WEATHER_TOOL] });
    let argumentDeltas = '';
    first.on('response.function_call_arguments.delta', (event) => (argumentDeltas += event.delta));
    const asked = await first.finalResponse();
    expect(asked.output).toMatchObject([
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' },
    ]);
    expect(argumentDeltas).toBe('{"city":"Oslo"}');
    expect(asked.tools).toMatchObject([{ type: 'function', name: 'get_weather' }]);
    expect(upstream.calls[0].body.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: WEATHER_TOOL.parameters } },
    ]);

    // What an app does next: the model's output back in the input, with the function's output after it.
    const answer = await openai.responses.create({
      model: 'gpt-x',
      input: [...input, ...(asked.output as ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_1', output: '5°C' }],
      tools: [WEATHER_TOOL],
    });
    expect(answer.output_text).toBe('t0 t1 t2 ');
    expect(messagesOf(upstream.calls[1].body)).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '5°C' },
    ]);
  });

  it('passes a provider’s context_length_exceeded on, for the SDK to see as a BadRequestError with that code', async () => {
    await start();
    const message = "This model's maximum context length is 8192 tokens.";
    upstream.behavior = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }),
    };
    for (const stream of [true, false]) {
      const error = await openai.responses.create({ model: 'gpt-x', input: 'a long story', stream }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', message: `400 ${message}` });
    }
  });

  it('ends a stream whose upstream failed with an error event, numbered after the others', async () => {
    await start();
    upstream.behavior = { kind: 'drop', afterTokens: 3 };
    const stream = await openai.responses.create({ model: 'gpt-x', input: 'hi', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toEqual({
      type: 'error',
      code: 'UPSTREAM_DISCONNECTED',
      message: expect.any(String),
      param: null,
      sequence_number: events.length - 1,
    });
    expect(events.filter((event) => event.type === 'response.output_text.delta')).toHaveLength(3);
  });

  it('refuses what it cannot do with a 400 naming it, and bad bodies with their issues', async () => {
    await start();
    const hosted = await post('/v1/responses', { model: 'gpt-x', input: 'hi', tools: [{ type: 'web_search' }, WEATHER_TOOL] });
    expect(hosted.status).toBe(400);
    expect(await hosted.json()).toEqual({
      error: {
        message: "Only function tools are supported; not: 'web_search'",
        type: 'invalid_request_error',
        code: 'INVALID_MESSAGE',
        param: null,
      },
    });
    const stored = await openai.responses.create({ model: 'gpt-x', input: 'hi', previous_response_id: 'resp_1' }).catch((e: unknown) => e);
    expect(stored).toBeInstanceOf(OpenAI.BadRequestError);
    expect(stored).toMatchObject({ code: 'INVALID_MESSAGE' });
    const badRole = await post('/responses', { input: [{ role: 'wizard', content: 'x' }] });
    expect(badRole.status).toBe(400);
    expect(await badRole.json()).toMatchObject({ error: { code: 'INVALID_MESSAGE', issues: [{ path: 'input.0.role' }] } });
    const wrongKey = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(wrongKey.responses.create({ model: 'gpt-x', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(upstream.calls).toHaveLength(0);
  });

  it(`closes the upstream when a stream is aborted before its first byte, ${ROUNDS} of ${ROUNDS}`, async () => {
    await start();
    upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
    for (let round = 0; round < ROUNDS; round++) {
      const abort = new AbortController();
      const pending = openai.responses.create({ model: 'gpt-x', input: 'slow', stream: true }, { signal: abort.signal });
      const call = await upstream.call(round);
      const abortedAt = performance.now();
      abort.abort();
      await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
      await expectCutWithin(call, abortedAt);
    }
    await sleep(20);
    expect(await closedRequests()).toBe(String(ROUNDS));
  });

  it(`closes the upstream when a stream is aborted mid-way, ${ROUNDS} of ${ROUNDS}, listed at /v1/requests while it runs`, async () => {
    await start();
    upstream.behavior = { kind: 'stream', intervalMs: 2 };
    for (let round = 0; round < ROUNDS; round++) {
      const abort = new AbortController();
      const stream = await openai.responses.create({ model: 'gpt-x', input: 'long', stream: true }, { signal: abort.signal });
      const call = await upstream.call(round);
      let deltas = 0;
      let id = '';
      let abortedAt = 0;
      for await (const event of stream) {
        if (event.type === 'response.created') id = event.response.id;
        if (event.type !== 'response.output_text.delta' || ++deltas < 5) continue;
        if (round === 0) {
          const listed = (await (
            await fetch(`${gateway.httpUrl}/v1/requests`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })
          ).json()) as {
            data: { request_id: string; transport: string }[];
          };
          expect(listed.data).toEqual([expect.objectContaining({ request_id: id, transport: 'http' })]);
        }
        abortedAt = performance.now();
        abort.abort();
      }
      expect(abortedAt).toBeGreaterThan(0);
      await expectCutWithin(call, abortedAt);
    }
    await sleep(20);
    expect(await closedRequests()).toBe(String(ROUNDS));
  });

  it(`closes the upstream when a request that is not streamed is abandoned while waiting, ${ROUNDS} of ${ROUNDS}`, async () => {
    await start();
    upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
    for (let round = 0; round < ROUNDS; round++) {
      const abort = new AbortController();
      const pending = openai.responses.create({ model: 'gpt-x', input: 'slow' }, { signal: abort.signal });
      const call = await upstream.call(round);
      const abortedAt = performance.now();
      abort.abort();
      await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
      await expectCutWithin(call, abortedAt);
    }
    await sleep(20);
    expect(await closedRequests()).toBe(String(ROUNDS));
  });

  it('serves the simulated model too: streamed, whole, and its get_current_time round trip', async () => {
    gateway = await startGateway({ SIMULATED_TOKENS_PER_SECOND: '1000', SIMULATED_FIRST_TOKEN_DELAY_MS: '0', SIMULATED_REPLY_TOKENS: '8' });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'any', maxRetries: 0 });
    const streamed = await openai.responses.stream({ model: 'simulated', input: 'hello' }).finalResponse();
    expect(streamed.output_text).toMatch(/^Here is a longer answer/);
    expect(streamed.model).toBe('simulated');
    expect(streamed.usage).toMatchObject({ output_tokens: 8 });
    const whole = await openai.responses.create({ model: 'simulated', input: 'hello' });
    expect(whole.output_text).toBe(streamed.output_text);

    const clock = { type: 'function' as const, name: 'get_current_time', parameters: { type: 'object', properties: {} }, strict: false };
    const input: ResponseInputItem[] = [{ role: 'user', content: 'What time is it?' }];
    const asked = await openai.responses.create({ model: 'simulated', input, tools: [clock] });
    const call = asked.output[0];
    if (call.type !== 'function_call') throw new Error(`expected a function call, got ${call.type}`);
    expect(call.name).toBe('get_current_time');
    const answer = await openai.responses
      .stream({
        model: 'simulated',
        input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '{"local":"10:30"}' }],
        tools: [clock],
      })
      .finalResponse();
    expect(answer.output_text).toBe('It is 10:30.');
  });
});
