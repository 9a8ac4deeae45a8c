import OpenAI from 'openai';
import { FAKE_EMBEDDING_DIMENSIONS, FAKE_TOKENS_PER_INPUT, FakeEmbeddings } from './support/fake-embeddings.js';
import { expectClosedWithin } from './support/expect-cut.js';
import { DEFAULT_UPSTREAM_KEY } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep } from './support/test-client.js';

const CLIENT_KEY = 'client-key';
const ROUNDS = 20;

describe('/v1/embeddings', () => {
  let upstream: FakeEmbeddings;
  let gateway: RunningGateway;
  let openai: OpenAI;

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      LLM_MODEL_MAP: 'text-embedding-3-small=fake-embedder',
      GATEWAY_API_KEYS: CLIENT_KEY,
      ...env,
    });
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  };
  const usageRecords = async () =>
    (
      (await (await fetch(`${gateway.httpUrl}/v1/usage/records`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()) as {
        data: { api: string; model: string; outcome: string; prompt_tokens: number; completion_tokens: number; source: string }[];
      }
    ).data;

  beforeEach(() => {
    upstream = new FakeEmbeddings();
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it('passes the body on with the mapped model, and the answer back with the client’s name and the usage recorded', async () => {
    await start();
    // The SDK's own default: base64 on the wire, decoded to floats by the SDK.
    const answer = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    expect(answer.model).toBe('text-embedding-3-small');
    expect(answer.data).toHaveLength(2);
    for (const [index, item] of answer.data.entries()) {
      expect(item.index).toBe(index);
      expect(item.embedding).toHaveLength(FAKE_EMBEDDING_DIMENSIONS);
      FakeEmbeddings.vector(index).forEach((value, k) => expect(item.embedding[k]).toBeCloseTo(value, 5));
    }
    expect(answer.usage).toEqual({ prompt_tokens: 2 * FAKE_TOKENS_PER_INPUT, total_tokens: 2 * FAKE_TOKENS_PER_INPUT });
    const call = upstream.calls[0];
    expect(call.body).toEqual({ model: 'fake-embedder', input: ['first text', 'second text'], encoding_format: 'base64' });
    expect(call.headers.authorization).toBe(`Bearer ${DEFAULT_UPSTREAM_KEY}`);

    const floats = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'one', encoding_format: 'float' });
    expect(floats.data[0].embedding).toEqual(FakeEmbeddings.vector(0));

    const records = await usageRecords();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      api: 'openai-embeddings',
      model: 'text-embedding-3-small',
      outcome: 'finished',
      prompt_tokens: 2 * FAKE_TOKENS_PER_INPUT,
      completion_tokens: 0,
      source: 'provider',
    });
  });

  it('makes deterministic unit vectors of 256 dimensions with the simulated model', async () => {
    gateway = await startGateway({});
    openai = new OpenAI({ baseURL: `${gateway.httpUrl}/v1`, apiKey: 'any', maxRetries: 0 });
    // Floats asked for: the simulated model writes no base64 (see the report on simulated-embeddings.ts).
    const embed = async (input: string[]) =>
      (await openai.embeddings.create({ model: 'simulated', input })).data.map((item) => item.embedding);
    const [first, again, other] = await embed(['the cat sat on the mat', 'the cat sat on the mat', 'quarterly revenue grew']);
    expect(first).toHaveLength(256);
    expect(Math.hypot(...first)).toBeCloseTo(1, 6);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    // Another call, the same text: the same vector.
    expect((await embed(['the cat sat on the mat']))[0]).toEqual(first);
  });

  it(`closes the upstream when a call is abandoned while it waits, ${ROUNDS} of ${ROUNDS}, each a 499`, async () => {
    await start();
    upstream.delayMs = 5000;
    for (let round = 0; round < ROUNDS; round++) {
      const abort = new AbortController();
      const pending = openai.embeddings.create({ model: 'text-embedding-3-small', input: `round ${round}` }, { signal: abort.signal });
      const call = await upstream.call(round);
      const abortedAt = performance.now();
      abort.abort();
      await expect(pending).rejects.toThrow();
      await expectClosed(call, abortedAt);
    }
    await sleep(20);
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toContain(`gateway_http_model_responses_total{api="openai-embeddings",status="499"} ${ROUNDS}`);
    expect((await usageRecords()).every((record) => record.outcome === 'client_closed')).toBe(true);
  });

  it('refuses a model whose upstream makes no embeddings with 400 MODEL_NOT_SUPPORTED', async () => {
    await start({ LLM_PROVIDER: 'anthropic' });
    const error = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'MODEL_NOT_SUPPORTED' });
    expect(upstream.calls).toHaveLength(0);
  });
});

function expectClosed(call: FakeEmbeddings['calls'][number], since: number): Promise<number> {
  return expectClosedWithin(
    { label: `embeddings call ${call.index}`, socketClosed: call.socketClosed, ranToEnd: () => call.completed },
    since,
    1000,
  );
}
