import { isEndPayload, isTextDeltaPayload, type ServerEnvelope } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';

const KEY = 'resume-key';
const auth = { auth_type: 'API_KEY', api_key: KEY };

describe('durable requests, RESUME and several sockets per session', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: `${KEY},other-key`,
      ...env,
    });
  };
  const registered = async (register: Record<string, unknown> = {}) => {
    const c = await TestClient.registered(gateway.wsUrl, { auth, ...register });
    clients.push(c);
    return c;
  };
  const resumed = async (sessionId: string, lastSeq: number, key = KEY) => {
    const c = await TestClient.connect(gateway.wsUrl);
    clients.push(c);
    c.send('RESUME', { session_id: sessionId, last_seq: lastSeq, auth: { auth_type: 'API_KEY', api_key: key } });
    return c;
  };
  const lastSeqOf = (c: TestClient) => Math.max(0, ...c.received.map((r) => r.frame.seq ?? 0));

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await upstream.stop();
  });

  it('numbers every frame of the session, in the order they are sent', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 20, intervalMs: 1 };
    const c = await registered();
    c.request('r1');
    c.request('r2');
    await Promise.all([c.endOf('r1'), c.endOf('r2')]);
    const seqs = c.received.map((r) => r.frame.seq).filter((seq) => seq !== undefined);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(c.frames('REGISTER_ACK')[0].seq).toBeUndefined();
  });

  it('keeps a durable request running through a refresh and replays every frame exactly once, in order', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 120, intervalMs: 5 };
    const first = await registered({ durable: true });
    first.request('story');
    const call = await upstream.call(0);
    await first.textFrames('story', 10);
    first.socket.terminate();
    await first.closed;
    await sleep(150); // frames go on into the log meanwhile
    expect(call.socketClosedAt).toBeUndefined();

    const lastSeq = lastSeqOf(first);
    const second = await resumed(first.sessionId!, lastSeq);
    const ack = await second.waitFor('RESUME_ACK');
    expect(ack.payload).toMatchObject({ session_id: first.sessionId, gap: false, active_request_ids: ['story'] });
    expect(ack.payload.replayed).toBeGreaterThan(0);
    await second.endOf('story');

    const frames = [...first.received, ...second.received]
      .map((r) => r.frame)
      .filter((f): f is ServerEnvelope<'RESPONSE'> => f.msg_type === 'RESPONSE' && f.payload.request_id === 'story');
    const seqs = frames.map((f) => f.seq!);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i)); // no gap
    const texts = frames.map((f) => f.payload).filter(isTextDeltaPayload);
    expect(texts.map((t) => t.text_stream_seq)).toEqual([...Array(120).keys()]);
    expect(frames.filter((f) => isEndPayload(f.payload))).toHaveLength(1);
    expect(call.completed).toBe(true);
  });

  it('cancels a non-durable request as soon as its last socket closes', async () => {
    await start();
    const c = await registered();
    c.request('r1');
    const call = await upstream.call(0);
    await c.textFrames('r1', 3);
    const closedAt = performance.now();
    c.socket.terminate();
    await expectCutWithin(call, closedAt);
  });

  it('mixes durable and not in one session: only the durable one survives the socket', async () => {
    await start();
    const c = await registered();
    c.send('REQUEST', { request_id: 'keep', data_type: 'TEXT', content: { text: 'keep (keep)' }, durable: true });
    c.send('REQUEST', { request_id: 'drop', data_type: 'TEXT', content: { text: 'drop (drop)' } });
    const [keep, drop] = await Promise.all([upstream.callAsking('(keep)'), upstream.callAsking('(drop)')]);
    await c.textFrames('keep', 2);
    const closedAt = performance.now();
    c.socket.terminate();
    await expectCutWithin(drop, closedAt);
    await sleep(200);
    expect(keep.socketClosedAt).toBeUndefined();
  });

  it('sends the frames to every socket of the session; closing one stops nothing', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 80, intervalMs: 5 };
    const tab1 = await registered();
    tab1.request('r1');
    const call = await upstream.call(0);
    await tab1.textFrames('r1', 3);
    const tab2 = await resumed(tab1.sessionId!, lastSeqOf(tab1));
    await tab2.waitFor('RESUME_ACK');
    await tab2.textFrames('r1', 1);
    tab1.close();
    await tab1.closed;
    await sleep(100);
    expect(call.socketClosedAt).toBeUndefined();
    const end = await tab2.endOf('r1');
    expect(end.interrupted).toBe(false);
    // Both tabs saw the same numbers for the frames they both got.
    const bySeq = new Map(tab1.received.filter((r) => r.frame.seq).map((r) => [r.frame.seq, JSON.stringify(r.frame.payload)]));
    for (const { frame } of tab2.received)
      if (frame.seq && bySeq.has(frame.seq)) expect(JSON.stringify(frame.payload)).toBe(bySeq.get(frame.seq));
  });

  it('says when the log no longer reaches back (gap), so the client reads the history instead', async () => {
    await start({ EVENT_LOG_MAX_FRAMES: '10' });
    upstream.behavior = { kind: 'stream', tokens: 40, intervalMs: 0 };
    const c = await registered({ durable: true });
    c.request('r1');
    await c.endOf('r1');
    c.close();
    const late = await resumed(c.sessionId!, 1);
    expect((await late.waitFor('RESUME_ACK')).payload).toMatchObject({ gap: true, replayed: 10 });
  });

  it('lets only the owner resume a session', async () => {
    await start();
    const c = await registered();
    c.close();
    await c.closed;
    const stranger = await resumed(c.sessionId!, 0, 'other-key');
    expect((await stranger.waitFor('ERROR')).payload.code).toBe('SESSION_NOT_FOUND');
    const unknown = await resumed('sess_nope', 0);
    expect((await unknown.waitFor('ERROR')).payload.code).toBe('SESSION_NOT_FOUND');
    const wrongKey = await resumed(c.sessionId!, 0, 'wrong');
    expect((await wrongKey.waitFor('ERROR')).payload.code).toBe('AUTH_FAILED');
  });

  it('cancels a durable request when nobody resumes within the grace period', async () => {
    await start({ RESUME_GRACE_MS: '300' });
    const c = await registered({ durable: true });
    c.request('r1');
    const call = await upstream.call(0);
    await c.textFrames('r1', 2);
    const closedAt = performance.now();
    c.socket.terminate();
    await sleep(150);
    expect(call.socketClosedAt).toBeUndefined();
    await expectCutWithin(call, closedAt, 2000);
    expect(call.socketClosedAt! - closedAt).toBeGreaterThanOrEqual(250);
    const late = await resumed(c.sessionId!, 0);
    expect((await late.waitFor('ERROR')).payload.code).toBe('SESSION_NOT_FOUND');
  });
});
