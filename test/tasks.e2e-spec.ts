import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, tokenText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';

const KEY = 'task-key';
const OTHER = 'other-key';

interface TaskView {
  task_id: string;
  session_id: string;
  state: string;
  text: string;
  last_seq: number;
  end: { interrupted: boolean } | null;
}
interface EventsPage {
  state: string;
  last_seq: number;
  events: { seq: number; msg_type: string; payload: { request_id?: string; text_stream_seq?: number } }[];
}

describe('tasks over REST, and stops with an explicit scope', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body's shape
  const api = async <T>(method: string, path: string, body?: unknown, key = KEY): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${gateway.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const startTask = async (text = 'Tell me a long story', key = KEY) =>
    (await api<TaskView>('POST', '/v1/tasks', { content: { text } }, key)).body;
  const ws = async (key = KEY) => {
    const c = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: key } });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: `${KEY},${OTHER}`,
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await upstream.stop();
  });

  it('runs a task and gives its frames by long polling, then its state and text', async () => {
    upstream.behavior = { kind: 'stream', tokens: 30, intervalMs: 3 };
    const created = await api<TaskView>('POST', '/v1/tasks', { content: { text: 'hello' } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ state: 'running' });
    const id = created.body.task_id;

    const events: EventsPage['events'] = [];
    let after = 0;
    let state = 'running';
    while (state === 'running' || events.length === 0) {
      const page = (await api<EventsPage>('GET', `/v1/tasks/${id}/events?after=${after}&timeout_ms=2000`)).body;
      events.push(...page.events);
      after = page.last_seq;
      state = page.state;
    }
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(events.at(-1)!.payload).toMatchObject({ request_id: id, text_stream_seq: -1 });
    const task = (await api<TaskView>('GET', `/v1/tasks/${id}`)).body;
    expect(task).toMatchObject({ state: 'finished', end: { interrupted: false } });
    expect(task.text).toBe([...Array(30).keys()].map(tokenText).join(''));
  });

  it('waits in a long poll until there is something, and answers empty at the timeout otherwise', async () => {
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 0, firstChunkDelayMs: 600 };
    const task = await startTask();
    let startedAt = performance.now();
    const empty = (await api<EventsPage>('GET', `/v1/tasks/${task.task_id}/events?after=0&timeout_ms=150`)).body;
    expect(empty).toMatchObject({ state: 'running', last_seq: 0, events: [] });
    expect(performance.now() - startedAt).toBeGreaterThan(120);
    startedAt = performance.now();
    const page = (await api<EventsPage>('GET', `/v1/tasks/${task.task_id}/events?after=0&timeout_ms=5000`)).body;
    expect(page.events.length).toBeGreaterThan(0);
    expect(performance.now() - startedAt).toBeLessThan(4000);
  });

  it('streams the frames as server-sent events, resuming after Last-Event-ID without loss or repeat', async () => {
    upstream.behavior = { kind: 'stream', tokens: 60, intervalMs: 5 };
    const task = await startTask();
    const read = async (lastEventId?: string, stopAfter = Infinity) => {
      const abort = new AbortController();
      const response = await fetch(`${gateway.httpUrl}/v1/tasks/${task.task_id}/stream`, {
        headers: { authorization: `Bearer ${KEY}`, ...(lastEventId && { 'last-event-id': lastEventId }) },
        signal: abort.signal,
      });
      const reader = response.body!.getReader();
      const ids: number[] = [];
      let ended = false;
      let buffer = '';
      while (!ended && ids.length < stopAfter) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value);
        const parts = buffer.split('\n\n');
        buffer = parts.pop()!;
        for (const part of parts) {
          if (part.startsWith('event: end')) ended = true;
          const id = /^id: (\d+)$/m.exec(part)?.[1];
          if (id) ids.push(Number(id));
        }
      }
      abort.abort();
      return { ids, ended };
    };
    const first = await read(undefined, 10);
    expect(first.ended).toBe(false);
    const rest = await read(String(first.ids.at(-1)));
    expect(rest.ended).toBe(true);
    const all = [...first.ids, ...rest.ids];
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect((await api<TaskView>('GET', `/v1/tasks/${task.task_id}`)).body.state).toBe('finished');
  });

  it('is untouched by any socket closing, even of the same key', async () => {
    const task = await startTask();
    const call = await upstream.call(0);
    const socket = await ws();
    socket.request('ws-1');
    await upstream.call(1);
    socket.socket.terminate();
    await sleep(200);
    expect(call.socketClosedAt).toBeUndefined();
    expect((await api<TaskView>('GET', `/v1/tasks/${task.task_id}`)).body.state).toBe('running');
  });

  it('stops a task when asked, and only then', async () => {
    const task = await startTask();
    const call = await upstream.call(0);
    await sleep(50);
    const stoppedAt = performance.now();
    expect((await api<{ stopped: boolean }>('POST', `/v1/tasks/${task.task_id}/stop`)).body).toEqual({
      task_id: task.task_id,
      stopped: true,
    });
    await expectCutWithin(call, stoppedAt);
    await sleep(20);
    expect((await api<TaskView>('GET', `/v1/tasks/${task.task_id}`)).body).toMatchObject({
      state: 'interrupted',
      end: { interrupted: true },
    });
    expect((await api('GET', `/v1/tasks/${task.task_id}`, undefined, OTHER)).status).toBe(404);
  });

  it('continues the conversation of an earlier task’s session', async () => {
    upstream.behavior = { kind: 'stream', tokens: 2, intervalMs: 0 };
    const first = await startTask('first turn');
    await api('GET', `/v1/tasks/${first.task_id}/events?after=0&timeout_ms=2000`);
    await sleep(50);
    const second = (await api<TaskView>('POST', '/v1/tasks', { content: { text: 'second turn' }, session_id: first.session_id })).body;
    expect(second.session_id).toBe(first.session_id);
    const call = await upstream.call(1);
    expect((call.body.messages as { content: string }[]).map((m) => m.content)).toEqual(['first turn', 't0 t1 ', 'second turn']);
  });

  it('stops everything of a key, in every session and task, and nobody else’s', async () => {
    const a = await ws();
    const b = await ws();
    const stranger = await ws(OTHER);
    a.send('REQUEST', { request_id: 'a1', data_type: 'TEXT', content: { text: 'x (a1)' } });
    b.send('REQUEST', { request_id: 'b1', data_type: 'TEXT', content: { text: 'x (b1)' } });
    stranger.send('REQUEST', { request_id: 's1', data_type: 'TEXT', content: { text: 'x (s1)' } });
    await startTask('x (t1)');
    const [a1, b1, s1, t1] = await Promise.all(['(a1)', '(b1)', '(s1)', '(t1)'].map((t) => upstream.callAsking(t)));
    await a.textFrames('a1', 1);
    const sentAt = performance.now();
    a.send('INTERRUPT', { reason: 'STOP_EVERYTHING', scope: 'user' });
    const ack = await a.waitFor('INTERRUPT_ACK');
    expect(ack.payload).toMatchObject({ scope: 'user', interrupted_request_ids: ['a1'], stopped_elsewhere: 2, status: 'SUCCESS' });
    await Promise.all([a1, b1, t1].map((call) => expectCutWithin(call, sentAt)));
    expect((await b.endOf('b1')).interrupt_reason).toBe('STOP_EVERYTHING');
    await sleep(100);
    expect(s1.socketClosedAt).toBeUndefined();

    // The same over HTTP.
    expect((await api('POST', '/v1/users/me/stop', undefined, OTHER)).body).toEqual({ stopped: 1 });
    await expectCutWithin(s1, performance.now());
  });

  it('stops one session’s requests over HTTP, for its owner only', async () => {
    const c = await ws();
    c.request('r1');
    const call = await upstream.call(0);
    expect((await api('POST', `/v1/sessions/${c.sessionId}/stop`, undefined, OTHER)).status).toBe(404);
    const stoppedAt = performance.now();
    expect((await api('POST', `/v1/sessions/${c.sessionId}/stop`)).body).toEqual({ stopped_request_ids: ['r1'] });
    await expectCutWithin(call, stoppedAt);
  });

  it('refuses bad task bodies clearly', async () => {
    const bad = await api<{ error: { code: string } }>('POST', '/v1/tasks', { content: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_MESSAGE');
    expect((await api('GET', '/v1/tasks/task_nope')).status).toBe(404);
  });
});
