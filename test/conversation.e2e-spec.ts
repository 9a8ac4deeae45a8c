import { FAKE_SPEECH_KEY, FakeSpeechServer } from './support/fake-speech-server.js';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream, messagesOf } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';

const WORDS = 'The keeper climbed the stairs. She lit the lamp. Boats came home safely. '
  .split(' ')
  .filter(Boolean)
  .map((w) => `${w} `);
const replyOf = (count: number) => WORDS.slice(0, count).join('');

describe('conversation history', () => {
  let upstream: FakeUpstream;
  let speech: FakeSpeechServer;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: 'key-alice,key-bob',
      TTS_PROVIDER: 'openai',
      TTS_BASE_URL: await speech.start(),
      TTS_API_KEY: FAKE_SPEECH_KEY,
      TTS_CHUNK_MS: '100',
      ...env,
    });
  };
  const client = async (key = 'key-alice', register: Record<string, unknown> = {}) => {
    const c = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: key }, ...register });
    clients.push(c);
    return c;
  };
  const httpHistory = (sessionId: string, key: string, method = 'GET') =>
    fetch(`${gateway.httpUrl}/v1/sessions/${sessionId}/history`, { method, headers: { authorization: `Bearer ${key}` } });

  beforeEach(() => {
    upstream = new FakeUpstream();
    speech = new FakeSpeechServer();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await Promise.all([upstream.stop(), speech.stop()]);
  });

  it('sends the history, after the system prompt, with every request', async () => {
    await start({ LLM_SYSTEM_PROMPT: 'You are brief.' });
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 6, intervalMs: 0 };
    const c = await client();
    c.request('r1', 'first question');
    await c.endOf('r1');
    c.request('r2', 'second question');
    await c.endOf('r2');
    expect(messagesOf(upstream.calls[1].body)).toEqual([
      { role: 'system', content: 'You are brief.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: replyOf(6) },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('stores an interrupted turn as what was delivered, marks it, and tells the model where it was cut', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, intervalMs: 5 };
    const c = await client();
    c.request('r1', 'tell me a story');
    await c.textFrames('r1', 4);
    c.interrupt('r1', 'USER_NEW_INPUT');
    await c.endOf('r1');
    const delivered = c
      .textsOf('r1')
      .map((t) => ('text' in t.content ? t.content.text : ''))
      .join('');

    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 3, intervalMs: 0 };
    c.request('r2', 'go on');
    await c.endOf('r2');
    const prompt = messagesOf(upstream.calls[1].body);
    expect(prompt.slice(0, 2)).toEqual([
      { role: 'user', content: 'tell me a story' },
      { role: 'assistant', content: delivered },
    ]);
    expect(prompt[2]).toEqual({
      role: 'system',
      content: `Your previous answer was interrupted by the user; they received it only up to: "${delivered.trim()}"`,
    });
    expect(prompt[3]).toEqual({ role: 'user', content: 'go on' });

    c.send('HISTORY', {});
    const history = (await c.waitFor('HISTORY')).payload;
    expect(history.session_id).toBe(c.sessionId);
    expect(history.messages.map((m) => [m.role, m.content, m.interrupted])).toEqual([
      ['user', 'tell me a story', undefined],
      ['assistant', delivered, { reason: 'USER_NEW_INPUT', kept: 'delivered' }],
      ['user', 'go on', undefined],
      ['assistant', replyOf(3), undefined],
    ]);
  });

  it('stores what the user heard when the client confirmed its playback', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, intervalMs: 5 };
    const c = await client('key-alice', { require_tts: true });
    c.request('r1', 'tell me a story');
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 6);
    // 100 ms frames at 10 ms a character: "The keeper climbed the stairs." is frames 0–2, "She lit the lamp." 3–4.
    c.send('INTERRUPT', { interrupt_request_id: 'r1', reason: 'BARGE_IN', played_until: { voice_stream_seq: 3, played_ms: 50 } });
    expect((await c.endOf('r1')).heard_text).toBe('The keeper climbed the stairs. She');
    c.send('HISTORY', {});
    const assistant = (await c.waitFor('HISTORY')).payload.messages[1];
    expect(assistant).toMatchObject({
      role: 'assistant',
      content: 'The keeper climbed the stairs. She',
      interrupted: { reason: 'BARGE_IN', kept: 'heard' },
    });
  });

  it('serves the history over HTTP to the session’s own key, also after the socket closed', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 3, intervalMs: 0 };
    const c = await client('key-alice');
    c.request('r1', 'hello');
    await c.endOf('r1');
    c.close();
    await c.closed;
    await sleep(50);

    const ok = await httpHistory(c.sessionId!, 'key-alice');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { session_id: string; messages: { role: string; content: string; request_id: string }[] };
    expect(body.session_id).toBe(c.sessionId);
    expect(body.messages.map((m) => [m.role, m.content, m.request_id])).toEqual([
      ['user', 'hello', 'r1'],
      ['assistant', replyOf(3), 'r1'],
    ]);
    expect((await httpHistory(c.sessionId!, 'key-bob')).status).toBe(404);
    expect((await httpHistory('sess_nobody', 'key-alice')).status).toBe(404);
    const unauthorized = await httpHistory(c.sessionId!, 'wrong');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ error: { code: 'AUTH_FAILED', type: 'authentication_error' } });
    expect(await (await httpHistory(c.sessionId!, 'key-alice', 'DELETE')).json()).toEqual({ cleared: 2 });
    expect(((await (await httpHistory(c.sessionId!, 'key-alice')).json()) as { messages: unknown[] }).messages).toEqual([]);
  });

  it('keeps the histories of no more than HISTORY_MAX_STORED_SESSIONS ended sessions, dropping the oldest', async () => {
    await start({ HISTORY_MAX_STORED_SESSIONS: '1', RESUME_GRACE_MS: '100' });
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 2, intervalMs: 0 };
    const [first, second] = [await client(), await client()];
    for (const c of [first, second]) {
      c.request('r1', 'hello');
      await c.endOf('r1');
    }
    /** Closes the socket and waits for the session to end (its grace period over, it is unknown to the stop endpoint). */
    const end = async (c: TestClient) => {
      c.close();
      await c.closed;
      const stop = () =>
        fetch(`${gateway.httpUrl}/v1/sessions/${c.sessionId}/stop`, { method: 'POST', headers: { authorization: 'Bearer key-alice' } });
      while ((await stop()).status !== 404) await sleep(20);
    };
    await end(first);
    expect((await httpHistory(first.sessionId!, 'key-alice')).status).toBe(200);
    await end(second);
    expect((await httpHistory(second.sessionId!, 'key-alice')).status).toBe(200);
    expect((await httpHistory(first.sessionId!, 'key-alice')).status).toBe(404);
  });

  it('clears the history on RESET', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 2, intervalMs: 0 };
    const c = await client();
    c.request('r1', 'hello');
    await c.endOf('r1');
    c.send('RESET', {});
    expect((await c.waitFor('RESET_ACK')).payload).toEqual({ cleared: 2 });
    c.request('r2', 'fresh start');
    await c.endOf('r2');
    expect(messagesOf(upstream.calls[1].body)).toEqual([{ role: 'user', content: 'fresh start' }]);
  });

  it('keeps the history to its window, in whole turns', async () => {
    await start({ HISTORY_MAX_TURNS: '2' });
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: 1, intervalMs: 0 };
    const c = await client();
    for (const id of ['r1', 'r2', 'r3', 'r4']) {
      c.request(id, `question ${id}`);
      await c.endOf(id);
    }
    expect(messagesOf(upstream.calls[3].body).map((m) => m.content)).toEqual([
      'question r2',
      replyOf(1),
      'question r3',
      replyOf(1),
      'question r4',
    ]);
  });
});
