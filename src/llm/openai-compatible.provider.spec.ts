import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from '../../test/support/fake-upstream.js';
import type { LlmEvent } from './llm-events.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { UpstreamError } from './upstream-error.js';

describe('OpenAiCompatibleProvider', () => {
  let upstream: FakeUpstream;
  let provider: OpenAiCompatibleProvider;
  const request = { messages: [{ role: 'user' as const, content: 'hi' }] };

  beforeEach(async () => {
    upstream = new FakeUpstream();
    provider = new OpenAiCompatibleProvider({
      baseUrl: await upstream.start(),
      apiKey: DEFAULT_UPSTREAM_KEY,
      model: 'm',
      connectTimeoutMs: 2000,
      firstTokenTimeoutMs: 2000,
      idleTimeoutMs: 2000,
      requestTimeoutMs: 5000,
    });
  });

  afterEach(() => upstream.stop());

  it('is cold: nothing is sent until it is subscribed', async () => {
    const stream$ = provider.stream(request);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(upstream.calls).toHaveLength(0);
    upstream.behavior = { kind: 'stream', tokens: 2, intervalMs: 0 };
    await lastValueFrom(stream$);
    expect(upstream.calls).toHaveLength(1);
  });

  it('streams text, finish and usage, then keeps the connection for the next call', async () => {
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0 };
    const events = await lastValueFrom(provider.stream(request).pipe(toArray()));
    expect(events).toEqual<LlmEvent[]>([
      { type: 'text', text: 't0 ' },
      { type: 'text', text: 't1 ' },
      { type: 'text', text: 't2 ' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } },
    ]);
    // The first body ends right after [DONE]; give the socket that moment to return to the pool.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await lastValueFrom(provider.stream(request));
    const [first, second] = upstream.calls;
    expect(second.remotePort).toBe(first.remotePort);
    expect(first.socketClosedAt).toBeUndefined();
  });

  it('aborts the HTTP call when unsubscribed mid-stream', async () => {
    const events = await firstValueFrom(provider.stream(request).pipe(take(3), toArray()));
    expect(events).toHaveLength(3);
    const call = await upstream.call(0);
    await expectCutWithin(call, performance.now());
  });

  it('aborts the HTTP call when unsubscribed before the response headers', async () => {
    upstream.behavior = { kind: 'stream', headersDelayMs: 5000 };
    const subscription = provider.stream(request).subscribe();
    const call = await upstream.call(0);
    const stoppedAt = performance.now();
    subscription.unsubscribe();
    await expectCutWithin(call, stoppedAt);
  });

  it('errors with an UpstreamError, never a raw one', async () => {
    upstream.behavior = { kind: 'status', status: 502 };
    const error = await lastValueFrom(provider.stream(request)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).upstreamStatus).toBe(502);
  });
});
