import OpenAI from 'openai';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';

const KEY = 'sk-app';
const ADMIN_KEY = 'sk-ops';
const TRIALS = 20;

/** Each client API as a streamed request body, and where it goes. */
const APIS = {
  'openai-chat': {
    path: '/v1/chat/completions',
    body: (text: string) => ({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: text }] }),
  },
  'openai-responses': { path: '/v1/responses', body: (text: string) => ({ model: 'fake-model', stream: true, input: text }) },
  'anthropic-messages': {
    path: '/v1/messages',
    body: (text: string) => ({ model: 'fake-model', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: text }] }),
  },
  'ollama-chat': { path: '/api/chat', body: (text: string) => ({ model: 'fake-model', messages: [{ role: 'user', content: text }] }) },
} as const;

/**
 * The stops every API shares, in numbers: chat completions stopped by the
 * openai SDK 20 times each way, and an operator's cancel of a call of each
 * API, which its client hears of in its own format.
 */
describe('every HTTP model API stops its upstream', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let openai: OpenAI;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      GATEWAY_API_KEYS: KEY,
      GATEWAY_ADMIN_KEYS: ADMIN_KEY,
    });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: KEY, maxRetries: 0 });
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  const ask = (text: string) => ({ model: 'fake-model', messages: [{ role: 'user' as const, content: text }] });

  it('chat completions: 20 of 20 aborts before the first byte close the upstream', async () => {
    upstream.behavior = { kind: 'stream', headersDelayMs: 2_000 };
    for (let i = 0; i < TRIALS; i++) {
      const abort = new AbortController();
      const sent = openai.chat.completions.create({ ...ask(`early ${i}`), stream: true }, { signal: abort.signal }).catch(() => undefined);
      const call = await upstream.callAsking(`early ${i}`);
      const abortedAt = performance.now();
      abort.abort();
      await expectCutWithin(call, abortedAt);
      await sent;
    }
  });

  it('chat completions: 20 of 20 aborts mid-stream close the upstream', async () => {
    upstream.behavior = { kind: 'stream', intervalMs: 5 };
    for (let i = 0; i < TRIALS; i++) {
      const abort = new AbortController();
      const stream = await openai.chat.completions.create({ ...ask(`mid ${i}`), stream: true }, { signal: abort.signal });
      let chunks = 0;
      const read = (async () => {
        for await (const _ of stream) if (++chunks === 3) abort.abort();
      })().catch(() => undefined);
      const call = await upstream.callAsking(`mid ${i}`);
      await read;
      await expectCutWithin(call, performance.now());
      // It stopped at the third; one already parsed may still have come out of the SDK's iterator.
      expect(chunks).toBeGreaterThanOrEqual(3);
    }
  });

  it('chat completions: 20 of 20 abandoned waits for a whole answer close the upstream', async () => {
    upstream.behavior = { kind: 'stream', headersDelayMs: 2_000 };
    for (let i = 0; i < TRIALS; i++) {
      const abort = new AbortController();
      const sent = openai.chat.completions.create(ask(`whole ${i}`), { signal: abort.signal }).catch(() => undefined);
      const call = await upstream.callAsking(`whole ${i}`);
      const abortedAt = performance.now();
      abort.abort();
      await expectCutWithin(call, abortedAt);
      await sent;
    }
  });

  it.each(Object.keys(APIS) as (keyof typeof APIS)[])(
    '%s: an operator’s cancel closes the upstream, and the client hears of it in its own format',
    async (api) => {
      upstream.behavior = { kind: 'stream', intervalMs: 5 };
      const { path, body } = APIS[api];
      const response = await fetch(`${gateway.httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(body(`cancel ${api}`)),
      });
      const reader = response.body!.getReader();
      await reader.read();
      const call = await upstream.callAsking(`cancel ${api}`);
      const listed = (await (
        await fetch(`${gateway.httpUrl}/v1/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).json()) as {
        data: { id: string; api: string; request_id: string }[];
      };
      const mine = listed.data.find((request) => request.api === api);
      expect(mine?.request_id).toBe(response.headers.get('x-request-id'));
      const cancelledAt = performance.now();
      const cancel = await fetch(`${gateway.httpUrl}/v1/requests/${mine!.id}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(await cancel.json()).toEqual({ id: mine!.id, cancelled: true });
      await expectCutWithin(call, cancelledAt);
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      // The stream ends with the API's own error, naming the stop.
      expect(rest).toContain('REQUEST_CANCELLED');
      if (api === 'anthropic-messages') expect(rest).toContain('event: error');
      if (api === 'openai-responses') expect(rest).toContain('event: error');
      if (api === 'ollama-chat') expect(rest.trim().split('\n').at(-1)).toMatch(/^\{"error":/);
    },
  );
});
