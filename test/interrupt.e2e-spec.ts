import { isEndPayload, type ServerEnvelope } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';
import { countTextTokens } from '../src/llm/token-count.js';

/** How long a test waits to be sure that nothing more arrives. */
const QUIET_MS = 150;

describe('interrupts over WebSocket, down to the upstream socket', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let client: TestClient;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    const baseUrl = await upstream.start();
    gateway = await startGateway({
      LLM_BASE_URL: baseUrl,
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      GATEWAY_API_KEYS: 'test-key',
    });
    client = await TestClient.registered(gateway.wsUrl);
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
    await upstream.stop();
  });

  /** Everything the client received for a request after the frame at `index`. */
  const framesAfter = (index: number, requestId: string) =>
    client.received
      .slice(index + 1)
      .map((r) => r.frame)
      .filter((f): f is ServerEnvelope<'RESPONSE'> => f.msg_type === 'RESPONSE' && f.payload.request_id === requestId);

  it('streams a whole reply in order and ends it with one end frame', async () => {
    upstream.behavior = { kind: 'stream', tokens: 30, intervalMs: 1 };
    client.request('r1', 'hello there');
    const end = await client.endOf('r1');

    const call = await upstream.call(0);
    expect(call.body).toMatchObject({
      model: 'fake-model',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const texts = client.textsOf('r1');
    expect(texts.map((p) => p.text_stream_seq)).toEqual([...Array(30).keys()]);
    expect(texts.map((p) => ('text' in p.content ? p.content.text : '')).join('')).toBe([...Array(30).keys()].map(tokenText).join(''));
    expect(end).toMatchObject({
      interrupted: false,
      finish_reason: 'stop',
      text_stream_seq: -1,
      voice_stream_seq: -1,
      usage: { prompt_tokens: 11, completion_tokens: 30, total_tokens: 41, source: 'provider' },
    });
    await sleep(QUIET_MS);
    expect(client.responsesOf('r1').filter(isEndPayload)).toHaveLength(1);
  });

  it('interrupts one request: ACK first, one end frame, nothing after, upstream socket closed', async () => {
    client.request('r1');
    const call = await upstream.call(0);
    await client.textFrames('r1', 5);

    const sentAt = performance.now();
    client.interrupt('r1', 'USER_NEW_INPUT');
    const ack = await client.waitFor('INTERRUPT_ACK');
    const ackedAt = performance.now();
    expect(ack.payload).toEqual({
      interrupt_request_id: 'r1',
      scope: 'request',
      interrupted_request_ids: ['r1'],
      status: 'SUCCESS',
      reason: 'USER_NEW_INPUT',
      upstream_closed_ms: { r1: expect.any(Number) },
    });
    await expectCutWithin(call, sentAt);
    // The gateway runs in this process, on this clock: it aborted the stream after the INTERRUPT was sent and
    // before the ACK arrived, and the upstream saw its socket close after that.
    const upstreamClosedMs = ack.payload.upstream_closed_ms!.r1;
    expect(upstreamClosedMs).toBeGreaterThanOrEqual(0);
    expect(upstreamClosedMs).toBeLessThanOrEqual(ackedAt - sentAt);
    expect(call.socketClosedAt! - sentAt).toBeGreaterThanOrEqual(upstreamClosedMs);

    await sleep(QUIET_MS);
    const ackIndex = client.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    const after = framesAfter(ackIndex, 'r1');
    expect(after).toHaveLength(1);
    expect(after[0].payload).toMatchObject({ interrupted: true, interrupt_reason: 'USER_NEW_INPUT' });
    const end = after[0].payload;
    if (!isEndPayload(end)) throw new Error('expected the end frame');
    const textCount = client.textsOf('r1').length;
    // Cut before the provider's usage: the prompt and the text delivered, counted with the tokenizer.
    const completion = countTextTokens(client.textOf('r1'));
    // The prompt is counted for the usage record, after the stop's tick; the end frame leaves it null.
    expect(end.usage).toEqual({ prompt_tokens: null, completion_tokens: completion, total_tokens: null, source: 'estimated' });
    // The upstream wrote no more than a few chunks past what the gateway had read when it aborted.
    expect(call.chunksWritten).toBeLessThan(textCount + 20);
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toContain('gateway_interrupts_total{transport="ws",source="client",reason="USER_NEW_INPUT"} 1');
    expect(metrics).toContain('gateway_interrupt_ack_seconds_count 1');
    expect(metrics).toContain('gateway_interrupt_upstream_closed_seconds_count{transport="ws"} 1');
    expect(metrics).toContain(`gateway_completion_tokens_total{transport="ws",outcome="interrupted"} ${textCount}`);
  });

  it('interrupts every request of the session when no id is given', async () => {
    client.request('a');
    client.request('b');
    client.request('c');
    const calls = await Promise.all([upstream.call(0), upstream.call(1), upstream.call(2)]);
    await Promise.all(['a', 'b', 'c'].map((id) => client.textFrames(id, 2)));

    const sentAt = performance.now();
    client.interrupt(undefined, 'STOP_ALL');
    const ack = await client.waitFor('INTERRUPT_ACK');
    expect(ack.payload.status).toBe('SUCCESS');
    expect(ack.payload.interrupt_request_id).toBeNull();
    expect([...ack.payload.interrupted_request_ids].sort()).toEqual(['a', 'b', 'c']);
    await Promise.all(calls.map((c) => expectCutWithin(c, sentAt)));

    await sleep(QUIET_MS);
    const ackIndex = client.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    for (const id of ['a', 'b', 'c']) {
      const after = framesAfter(ackIndex, id);
      expect(after).toHaveLength(1);
      expect(after[0].payload).toMatchObject({ interrupted: true, interrupt_reason: 'STOP_ALL' });
    }
  });

  it('answers NOT_FOUND for an unknown id and leaves the running request alone', async () => {
    client.request('r1');
    const call = await upstream.call(0);
    await client.textFrames('r1', 2);

    client.interrupt('no-such-request');
    const ack = await client.waitFor('INTERRUPT_ACK');
    expect(ack.payload).toMatchObject({ status: 'NOT_FOUND', interrupted_request_ids: [] });
    expect(ack.payload.upstream_closed_ms).toBeUndefined();

    const seen = client.responsesOf('r1').length;
    await client.textFrames('r1', seen + 5);
    expect(call.socketClosedAt).toBeUndefined();
    expect(client.responsesOf('r1').some(isEndPayload)).toBe(false);
  });

  it('starts a new request right behind an interrupt', async () => {
    client.request('old');
    const oldCall = await upstream.call(0);
    await client.textFrames('old', 3);

    upstream.behavior = { kind: 'stream', tokens: 20, intervalMs: 1 };
    const sentAt = performance.now();
    client.interrupt('old');
    client.request('new', 'and now something else');
    const end = await client.endOf('new');
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    expect(client.textsOf('new')).toHaveLength(20);
    await expectCutWithin(oldCall, sentAt);
    expect((await client.endOf('old')).interrupted).toBe(true);
  });

  it('gives every one of five concurrent INTERRUPTs its ACK, and the request one end frame', async () => {
    client.request('r1');
    const call = await upstream.call(0);
    await client.textFrames('r1', 2);

    const sentAt = performance.now();
    for (let i = 0; i < 5; i++) client.interrupt('r1', `REASON_${i}`);
    await client.waitFor('INTERRUPT_ACK', () => client.frames('INTERRUPT_ACK').length === 5);
    const acks = client.frames('INTERRUPT_ACK').map((f) => f.payload);
    expect(acks.map((a) => a.reason)).toEqual(['REASON_0', 'REASON_1', 'REASON_2', 'REASON_3', 'REASON_4']);
    expect(acks.map((a) => a.status)).toEqual(['SUCCESS', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    await expectCutWithin(call, sentAt);
    await sleep(QUIET_MS);
    const ends = client.responsesOf('r1').filter(isEndPayload);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ interrupted: true, interrupt_reason: 'REASON_0' });
  });

  it('closes the upstream when the client disconnects mid-stream', async () => {
    client.request('r1');
    const call = await upstream.call(0);
    await client.textFrames('r1', 3);
    const closedAt = performance.now();
    client.socket.terminate();
    await expectCutWithin(call, closedAt);
  });

  it('never lets one session interrupt another session’s request', async () => {
    const other = await TestClient.registered(gateway.wsUrl);
    try {
      client.request('shared-id');
      const call = await upstream.call(0);
      await client.textFrames('shared-id', 2);

      other.interrupt('shared-id');
      expect((await other.waitFor('INTERRUPT_ACK')).payload.status).toBe('NOT_FOUND');
      other.interrupt();
      expect((await other.waitFor('INTERRUPT_ACK', (f) => f.payload.interrupt_request_id === null)).payload.status).toBe('NOT_FOUND');
      const seen = client.responsesOf('shared-id').length;
      await client.textFrames('shared-id', seen + 5);
      expect(call.socketClosedAt).toBeUndefined();
      expect(other.frames('RESPONSE')).toHaveLength(0);
    } finally {
      other.close();
    }
  });

  it('keeps a reused request_id apart: an interrupt of the new request leaves the old one’s queued frames and end frame', async () => {
    await gateway.close();
    gateway = await startGateway({
      LLM_BASE_URL: upstream.origin + '/v1',
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: 'test-key',
      WS_SEND_HARD_LIMIT_BYTES: String(256 * 1024 * 1024),
    });
    client.close();
    client = await TestClient.registered(gateway.wsUrl);
    const active = async () =>
      (
        (await (await fetch(`${gateway.httpUrl}/v1/requests`, { headers: { authorization: 'Bearer test-key' } })).json()) as {
          data: { request_id: string }[];
        }
      ).data.map((r) => r.request_id);

    // The client stops reading; the first r1 writes megabytes (more than the socket buffers hold) and ends.
    client.socket.pause();
    const OLD_TOKENS = 8000;
    upstream.behavior = { kind: 'stream', words: [`${'x'.repeat(2000)} `], tokens: OLD_TOKENS, intervalMs: 0 };
    client.request('r1', 'the old one');
    const oldCall = await upstream.call(0);
    await oldCall.socketClosed;
    while ((await active()).includes('r1')) await sleep(20);

    // Its frames still wait in the gateway when the client reuses the id, and interrupts the new request.
    upstream.behavior = { kind: 'stream' };
    client.request('r1', 'the new one');
    const newCall = await upstream.call(1);
    const sentAt = performance.now();
    client.interrupt('r1');
    await expectCutWithin(newCall, sentAt);
    client.socket.resume();

    const ack = await client.waitFor('INTERRUPT_ACK', () => true, { timeoutMs: 30_000 });
    expect(ack.payload).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: ['r1'] });
    const endWith = (interrupted: boolean) =>
      client.waitFor('RESPONSE', (f) => isEndPayload(f.payload) && f.payload.interrupted === interrupted, { timeoutMs: 30_000 });
    await Promise.all([endWith(true), endWith(false)]);
    const ends = client.responsesOf('r1').filter(isEndPayload);
    expect(ends.map((end) => end.interrupted).sort()).toEqual([false, true]);
    expect(ends.find((end) => !end.interrupted)).toMatchObject({ finish_reason: 'stop' });
    // Every delta of the old request arrived; none of the new one was ever sent.
    const texts = client.textsOf('r1');
    expect(texts.map((t) => t.text_stream_seq)).toEqual([...Array(OLD_TOKENS).keys()]);
    await sleep(QUIET_MS);
    expect(client.responsesOf('r1').filter(isEndPayload)).toHaveLength(2);
  }, 60_000);
});
