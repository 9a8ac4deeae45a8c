import OpenAI from 'openai';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';

const THINKING_MS = 40_000;

/**
 * A reasoning model that thinks for 40 s before its first word, sending only
 * SSE comments and `delta.reasoning` meanwhile, with the default timeouts
 * (30 s until the first event): every event and comment proves it alive.
 */
describe('a reasoning model that thinks longer than the first-token timeout', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({ LLM_BASE_URL: await upstream.start(), LLM_API_KEY: DEFAULT_UPSTREAM_KEY, LLM_MODEL: 'fake-model' });
  });

  afterAll(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it(
    'streams its 40 s of thinking and then its answer, with the default timeouts',
    async () => {
      upstream.behavior = { kind: 'stream', tokens: 3, reasoningMs: THINKING_MS };
      const openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'any', maxRetries: 0 });
      const startedAt = performance.now();
      const stream = await openai.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'think' }],
        stream: true,
      });
      let reasoningChunks = 0;
      let content = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
        if (delta?.reasoning) reasoningChunks += 1;
        content += delta?.content ?? '';
      }
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(THINKING_MS);
      expect(reasoningChunks).toBeGreaterThan(300);
      expect(content).toBe('t0 t1 t2 ');
    },
    THINKING_MS + 20_000,
  );
});
