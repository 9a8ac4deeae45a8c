import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeAudioFrame, isEndPayload, isTextDeltaPayload, type ServerEnvelope } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, lastUserText, messagesOf } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { deleteKeys, SHARED_REDIS_URL } from '../support/redis-server.js';
import { sleep, TestClient } from '../support/test-client.js';

const KEY = 'cluster-key';
const OTHER_KEY = 'cluster-other-key';
const TTL_MS = 1000;

/**
 * Two gateway processes on the machine's Redis, as docker-compose runs them
 * behind nginx: whichever one a client reaches, it sees one gateway.
 */
describe('two gateway instances on Redis', () => {
  let upstream: FakeUpstream;
  let prefix: string;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const clients: TestClient[] = [];

  const start = async (instanceId: string, baseUrl: string) =>
    GatewayProcess.start({
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      INSTANCE_ID: instanceId,
      CLUSTER_INSTANCE_TTL_MS: String(TTL_MS),
      LLM_BASE_URL: baseUrl,
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: `${KEY},${OTHER_KEY}`,
      TTS_PROVIDER: 'espeak',
      SHUTDOWN_DEADLINE_MS: '0',
    });
  const registered = async (on: GatewayProcess, register: Record<string, unknown> = {}, key = KEY) => {
    const c = await TestClient.registered(on.wsUrl, { auth: { auth_type: 'API_KEY', api_key: key }, ...register });
    clients.push(c);
    return c;
  };
  const resumed = async (on: GatewayProcess, sessionId: string, lastSeq: number) => {
    const c = await TestClient.connect(on.wsUrl);
    clients.push(c);
    c.sessionId = sessionId;
    c.send('RESUME', { session_id: sessionId, last_seq: lastSeq, auth: { auth_type: 'API_KEY', api_key: KEY } });
    return c;
  };
  const http = async (on: GatewayProcess, method: string, path: string, body?: unknown, key = KEY) => {
    const response = await fetch(`${on.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const lastSeqOf = (c: TestClient) =>
    Math.max(0, ...c.received.map((r) => r.frame.seq ?? 0), ...c.binary.map((b) => decodeAudioFrame(b).seq));
  /** One ERROR and one end frame for the lost request, in that order. */
  const expectLostOnce = (c: TestClient) => {
    const ofStory = c.received
      .map((r) => r.frame)
      .filter(
        (f) =>
          (f.msg_type === 'ERROR' || (f.msg_type === 'RESPONSE' && isEndPayload(f.payload))) &&
          (f.payload as { request_id?: string }).request_id === 'story',
      );
    expect(ofStory.map((f) => f.msg_type)).toEqual(['ERROR', 'RESPONSE']);
    expect(ofStory[0].payload).toMatchObject({ code: 'INSTANCE_LOST' });
  };
  const numbered = (...cs: TestClient[]) =>
    cs.flatMap((c) => c.received.map((r) => r.frame)).filter((f): f is ServerEnvelope & { seq: number } => f.seq !== undefined);

  beforeEach(async () => {
    upstream = new FakeUpstream();
    prefix = `agw-test:${randomUUID()}:`;
    const baseUrl = await upstream.start();
    [a, b] = await Promise.all([start('A', baseUrl), start('B', baseUrl)]);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all([a.stop(), b.stop()]);
    await upstream.stop();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('resumes on B a session that started on A: every frame once, in order, and the conversation goes on there', async () => {
    upstream.behavior = { kind: 'stream', tokens: 150, intervalMs: 8 };
    const first = await registered(a, { durable: true });
    first.request('story');
    await first.textFrames('story', 10);
    first.close();
    await first.closed;
    await sleep(100); // A goes on streaming meanwhile

    const second = await resumed(b, first.sessionId!, lastSeqOf(first));
    const ack = await second.waitFor('RESUME_ACK');
    expect(ack.payload).toMatchObject({ session_id: first.sessionId, gap: false, active_request_ids: ['story'] });
    const end = await second.endOf('story', 10_000);
    expect(end.interrupted).toBe(false);

    const frames = numbered(first, second);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    const responses = frames.filter((f) => f.msg_type === 'RESPONSE').map((f) => f.payload);
    expect(responses.filter(isTextDeltaPayload).map((p) => p.text_stream_seq)).toEqual([...Array(150).keys()]);
    expect(responses.filter(isEndPayload)).toHaveLength(1);
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0].completed).toBe(true);

    // The next turn runs where the session now is, with the turn A ran in its history.
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    second.request('next', 'and then?');
    expect((await second.endOf('next')).interrupted).toBe(false);
    const history = messagesOf(upstream.calls[1].body);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(history[1].content).toMatch(/^t0 t1 t2 /);
  });

  it('forwards the speech of a request still running on A, binary audio frames included, each once and in order', async () => {
    upstream.behavior = { kind: 'stream', tokens: 24, intervalMs: 30, words: ['One small step. ', 'Then another one. ', 'And a third, '] };
    const first = await registered(a, { durable: true, require_tts: true, audio_transport: 'binary' });
    first.request('talk');
    await first.waitFor('RESPONSE', () => first.binary.length >= 2, { timeoutMs: 10_000 });
    first.close();
    await first.closed;

    const second = await resumed(b, first.sessionId!, lastSeqOf(first));
    await second.waitFor('RESUME_ACK');
    const end = await second.endOf('talk', 20_000);
    expect(end.interrupted).toBe(false);
    expect(second.binary.length).toBeGreaterThan(0); // spoken on A, sent from B

    const audio = [...first.binary, ...second.binary].map((b) => decodeAudioFrame(b));
    expect(audio.map((f) => f.voiceStreamSeq)).toEqual([...Array(end.voice_frames).keys()]);
    const seqs = [...numbered(first, second).map((f) => f.seq), ...audio.map((f) => f.seq)].sort((x, y) => x - y);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('interrupts on B a request running on A: ACK after the owner confirmed, then A closes its upstream', async () => {
    const first = await registered(a, { durable: true });
    first.request('story');
    await first.textFrames('story', 5);
    first.close();
    await first.closed;

    const second = await resumed(b, first.sessionId!, lastSeqOf(first));
    await second.waitFor('RESUME_ACK');
    const before = second.textsOf('story').length;
    await second.waitFor('RESPONSE', () => second.textsOf('story').length > before + 3); // live frames flow through B
    const sentAt = performance.now();
    second.interrupt('story');

    const ack = await second.waitFor('INTERRUPT_ACK');
    expect(ack.payload).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: ['story'], scope: 'request' });
    const end = await second.endOf('story');
    expect(end).toMatchObject({ interrupted: true, interrupt_reason: 'USER_NEW_INPUT' });
    const ackAt = second.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    const endAt = second.indexOf((f) => f.msg_type === 'RESPONSE' && isEndPayload(f.payload));
    expect(ackAt).toBeLessThan(endAt);
    await expectCutWithin(upstream.calls[0], sentAt, 1000);
    const count = second.received.length;
    await sleep(200);
    expect(second.received.slice(count).filter((r) => r.frame.msg_type === 'RESPONSE')).toEqual([]);
  });

  it("stops a key's work on every instance, and nobody else's (HTTP and INTERRUPT scope user)", async () => {
    const mine = await registered(a);
    const theirs = await registered(a, {}, OTHER_KEY);
    mine.request('mine', 'mine please');
    theirs.request('theirs', 'theirs please');
    const task = await http(a, 'POST', '/v1/tasks', { content: { text: 'a task' } });
    expect(task.status).toBe(202);
    await Promise.all([mine.textFrames('mine', 3), theirs.textFrames('theirs', 3), upstream.callAsking('a task')]);
    const callOf = (text: string) => upstream.calls.find((call) => lastUserText(call.body) === text)!;

    const stoppedAt = performance.now();
    const stop = await http(b, 'POST', '/v1/users/me/stop');
    expect(stop).toEqual({ status: 200, body: { stopped: 2 } });
    expect(await mine.endOf('mine')).toMatchObject({ interrupted: true, interrupt_reason: 'STOPPED' });
    await expectCutWithin(callOf('a task'), stoppedAt, 1000);
    expect((await http(b, 'GET', `/v1/tasks/${task.body.task_id as string}`)).body.state).toBe('interrupted');
    expect(callOf('theirs please').socketClosedAt).toBeUndefined();

    // The same from a socket on B, as INTERRUPT with scope "user".
    mine.request('again');
    await mine.textFrames('again', 2);
    const onB = await registered(b);
    onB.send('INTERRUPT', { scope: 'user', reason: 'STOP_ALL' });
    expect((await onB.waitFor('INTERRUPT_ACK')).payload).toMatchObject({
      status: 'SUCCESS',
      interrupted_request_ids: [],
      stopped_elsewhere: 1,
    });
    expect(await mine.endOf('again')).toMatchObject({ interrupted: true, interrupt_reason: 'STOP_ALL' });
    expect(theirs.responsesOf('theirs').filter(isEndPayload)).toEqual([]);
  });

  it('serves and stops through B a REST task running on A', async () => {
    const task = await http(a, 'POST', '/v1/tasks', { content: { text: 'a task' } });
    const id = task.body.task_id as string;
    await sleep(200);
    const state = await http(b, 'GET', `/v1/tasks/${id}`);
    expect(state.body).toMatchObject({ task_id: id, state: 'running', session_id: task.body.session_id });
    expect(state.body.text).toMatch(/^t0 t1 /);
    const events = await http(b, 'GET', `/v1/tasks/${id}/events?after=0`);
    expect((events.body.events as unknown[]).length).toBeGreaterThan(2);

    const stoppedAt = performance.now();
    expect((await http(b, 'POST', `/v1/tasks/${id}/stop`)).body).toEqual({ task_id: id, stopped: true });
    await expectCutWithin(upstream.calls[0], stoppedAt, 1000);
    // Long polls on B until the end frame A sends for the stop.
    const ends: unknown[] = [];
    for (let after = events.body.last_seq as number; ends.length === 0;) {
      const page = await http(b, 'GET', `/v1/tasks/${id}/events?after=${after}&timeout_ms=5000`);
      const envelopes = page.body.events as ServerEnvelope<'RESPONSE'>[];
      expect(envelopes.length).toBeGreaterThan(0);
      ends.push(...envelopes.map((e) => e.payload).filter(isEndPayload));
      after = page.body.last_seq as number;
    }
    expect(ends).toEqual([expect.objectContaining({ interrupted: true, interrupt_reason: 'STOPPED' })]);
  });

  it('reads on B the history of a session on A', async () => {
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    const c = await registered(a);
    c.request('r1', 'hello there');
    await c.endOf('r1');
    const history = await http(b, 'GET', `/v1/sessions/${c.sessionId!}/history`);
    expect((history.body.messages as { role: string; content: string }[]).map((m) => [m.role, m.content])).toEqual([
      ['user', 'hello there'],
      ['assistant', 't0 t1 t2 '],
    ]);
    expect((await http(b, 'GET', `/v1/sessions/${c.sessionId!}/history`, undefined, OTHER_KEY)).status).toBe(404);
  });

  it("marks a killed instance's requests failed within a bounded time, for tasks and sessions alike", async () => {
    const c = await registered(a, { durable: true });
    c.request('story');
    const task = await http(a, 'POST', '/v1/tasks', { content: { text: 'a task' } });
    await c.textFrames('story', 3);
    const lastSeq = lastSeqOf(c);

    const killedAt = performance.now();
    a.kill('SIGKILL');
    await c.closed;
    let state: Record<string, unknown> = {};
    while (state.state !== 'failed' && performance.now() - killedAt < 10_000) {
      await sleep(100);
      state = (await http(b, 'GET', `/v1/tasks/${task.body.task_id as string}`)).body;
    }
    expect(state).toMatchObject({ state: 'failed', end: expect.objectContaining({ error: { code: 'INSTANCE_LOST' } }) });
    expect(performance.now() - killedAt).toBeLessThan(TTL_MS * 5);
    // The reap is over once A has left the instance set (the task's session and this one are reaped in any order).
    const probe = new Redis(SHARED_REDIS_URL);
    try {
      while ((await probe.sismember(`${prefix}instances`, 'A')) === 1) await sleep(50);
    } finally {
      probe.disconnect();
    }

    // Its end frames are in the session's log: a RESUME gets them with the rest.
    const back = await resumed(b, c.sessionId!, lastSeq);
    expect((await back.waitFor('RESUME_ACK')).payload).toMatchObject({ active_request_ids: [] });
    expect(await back.endOf('story')).toMatchObject({ interrupted: false, error: { code: 'INSTANCE_LOST' } });
    expectLostOnce(back);
  });

  it("ends the killed instance's requests on the instance a client resumed their session on before the reaper ran", async () => {
    const c = await registered(a, { durable: true });
    c.request('story');
    await c.textFrames('story', 3);
    const lastSeq = lastSeqOf(c);

    const killedAt = performance.now();
    a.kill('SIGKILL');
    await c.closed;
    // A's heartbeat has not expired yet: B takes the session over from an owner that does not answer.
    const back = await resumed(b, c.sessionId!, lastSeq);
    const ack = await back.waitFor('RESUME_ACK');
    // Still running as far as anyone can tell, until A is found dead.
    expect(ack.payload).toMatchObject({ active_request_ids: ['story'] });
    expect(await back.endOf('story', TTL_MS * 10)).toMatchObject({ interrupted: false, error: { code: 'INSTANCE_LOST' } });
    expect(performance.now() - killedAt).toBeLessThan(TTL_MS * 10);
    const end = back.received.find((r) => r.frame.msg_type === 'RESPONSE' && isEndPayload(r.frame.payload))!;
    expect(end.frame.seq).toBeGreaterThan(ack.payload.last_seq);
    expectLostOnce(back);
  });
});
