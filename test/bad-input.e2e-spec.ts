import { type ErrorCode, isEndPayload } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';

describe('bad input gets a clear ERROR and loses nothing', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  const connect = async () => {
    const client = await TestClient.connect(gateway.wsUrl);
    clients.push(client);
    return client;
  };
  const registered = async () => {
    const client = await connect();
    await client.register();
    return client;
  };
  /** Sends a HEARTBEAT and waits for its answer: the connection still works. */
  const stillWorks = async (client: TestClient) => {
    const before = client.frames('HEARTBEAT').length;
    client.send('HEARTBEAT', {});
    await client.waitFor('HEARTBEAT', () => client.frames('HEARTBEAT').length > before);
  };
  const nthError = (client: TestClient, n: number) =>
    client.waitFor('ERROR', () => client.frames('ERROR').length > n).then(() => client.frames('ERROR')[n].payload);

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: 'test-key,second-key',
      WS_MAX_PAYLOAD_BYTES: '4096',
      MAX_CONCURRENT_REQUESTS_PER_SESSION: '2',
      MAX_REQUEST_TEXT_CHARS: '100',
      RATE_LIMIT_MESSAGES_PER_SECOND: '1',
      RATE_LIMIT_BURST: '30',
      RATE_LIMIT_INTERRUPTS_PER_SECOND: '1',
      RATE_LIMIT_INTERRUPT_BURST: '3',
      WS_REGISTER_TIMEOUT_MS: '5000',
    });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await gateway.close();
    await upstream.stop();
  });

  it.each<{ what: string; frame: string | Buffer; code: ErrorCode }>([
    { what: 'not JSON', frame: '{"version":', code: 'INVALID_JSON' },
    { what: 'a JSON array', frame: '[1,2,3]', code: 'INVALID_MESSAGE' },
    { what: 'a JSON string', frame: '"REGISTER"', code: 'INVALID_MESSAGE' },
    { what: 'an envelope without msg_type', frame: JSON.stringify({ version: '1.0', payload: {} }), code: 'INVALID_MESSAGE' },
    {
      what: 'a payload that is not an object',
      frame: JSON.stringify({ version: '1.0', msg_type: 'HEARTBEAT', payload: 7 }),
      code: 'INVALID_MESSAGE',
    },
    {
      what: 'another protocol version',
      frame: JSON.stringify({ version: '2.0', msg_type: 'HEARTBEAT', payload: {} }),
      code: 'UNSUPPORTED_VERSION',
    },
    {
      what: 'an unknown msg_type',
      frame: JSON.stringify({ version: '1.0', msg_type: 'DANCE', payload: {} }),
      code: 'UNKNOWN_MSG_TYPE',
    },
    { what: 'a binary frame', frame: Buffer.from([1, 2, 3]), code: 'BINARY_NOT_SUPPORTED' },
  ])('answers $what with $code and keeps the connection', async ({ frame, code }) => {
    const client = await registered();
    client.sendRaw(frame);
    expect((await nthError(client, 0)).code).toBe(code);
    await stillWorks(client);
  });

  it('closes a connection that sends anything but REGISTER or RESUME first, with one ERROR; another registers normally', async () => {
    const client = await connect();
    client.request('r1');
    client.send('HEARTBEAT', {});
    client.interrupt('r1');
    expect(await client.closed).toEqual({ code: 1008, reason: 'NOT_REGISTERED' });
    expect(client.frames('ERROR').map((f) => f.payload.code)).toEqual(['NOT_REGISTERED']);
    const next = await registered();
    await stillWorks(next);
    expect(upstream.calls).toHaveLength(0);
  });

  it('closes the socket after a wrong, missing or non-API_KEY credential', async () => {
    for (const auth of [
      { auth_type: 'API_KEY', api_key: 'wrong' },
      { auth_type: 'API_KEY', api_key: '' },
      { auth_type: 'TOKEN', api_key: 'test-key' },
      null,
    ]) {
      const client = await connect();
      client.send('REGISTER', { auth, platform: 'jest' });
      const error = await nthError(client, 0);
      expect(error).toEqual({ code: 'AUTH_FAILED', message: 'Authentication failed' });
      expect(await client.closed).toEqual({ code: 1008, reason: 'AUTH_FAILED' });
    }
  });

  it('accepts every configured key', async () => {
    const client = await connect();
    const ack = await client.register({ auth: { auth_type: 'API_KEY', api_key: 'second-key' } });
    expect(ack.auth_mode).toBe('api_key');
  });

  it('is not open when only operator keys are configured', async () => {
    await gateway.close();
    gateway = await startGateway({ GATEWAY_ADMIN_KEYS: 'ops-key' });
    const anonymous = await connect();
    anonymous.send('REGISTER', { auth: null, platform: 'jest' });
    expect((await nthError(anonymous, 0)).code).toBe('AUTH_FAILED');
    const operator = await connect();
    expect((await operator.register({ auth: { auth_type: 'API_KEY', api_key: 'ops-key' } })).auth_mode).toBe('api_key');
  });

  it('refuses a second REGISTER and a foreign session_id', async () => {
    const client = await registered();
    client.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'test-key' } });
    expect((await nthError(client, 0)).code).toBe('ALREADY_REGISTERED');
    client.send('HEARTBEAT', {}, { session_id: 'sess_someone-else' });
    expect((await nthError(client, 1)).code).toBe('SESSION_MISMATCH');
    await stillWorks(client);
  });

  it('explains an invalid REQUEST field by field, with its request_id', async () => {
    const client = await registered();
    client.sendRaw(
      JSON.stringify({
        version: '1.0',
        msg_type: 'REQUEST',
        session_id: client.sessionId,
        payload: { request_id: 'r1', data_type: 'TEXT', content: {}, require_tts: 'yes' },
        timestamp: Date.now(),
      }),
    );
    const error = await nthError(client, 0);
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.request_id).toBe('r1');
    expect(error.issues?.map((i) => i.path).sort()).toEqual(['payload.content.text', 'payload.require_tts']);

    client.sendRaw(
      JSON.stringify({
        version: '1.0',
        msg_type: 'REQUEST',
        payload: { request_id: 'bad id with spaces', data_type: 'TEXT', content: { text: 'x' } },
      }),
    );
    expect((await nthError(client, 1)).issues?.[0]?.path).toBe('payload.request_id');
    await stillWorks(client);
    expect(upstream.calls).toHaveLength(0);
  });

  it('refuses unsupported data types and over-long text', async () => {
    const client = await registered();
    client.sendRaw(JSON.stringify({ version: '1.0', msg_type: 'REQUEST', payload: { request_id: 'a1', data_type: 'IMAGE', content: {} } }));
    expect(await nthError(client, 0)).toMatchObject({ code: 'UNSUPPORTED_DATA_TYPE', request_id: 'a1' });
    client.request('long', 'x'.repeat(101));
    expect(await nthError(client, 1)).toMatchObject({ code: 'INVALID_MESSAGE', request_id: 'long' });
    expect(upstream.calls).toHaveLength(0);
  });

  it('refuses a duplicate active request_id and a request over the concurrency limit, and keeps the running ones', async () => {
    const client = await registered();
    client.request('r1');
    client.request('r1');
    client.request('r2');
    client.request('r3');
    await client.waitFor('ERROR', () => client.frames('ERROR').length === 2);
    expect(client.frames('ERROR').map((f) => [f.payload.code, f.payload.request_id])).toEqual([
      ['DUPLICATE_REQUEST', 'r1'],
      ['TOO_MANY_REQUESTS', 'r3'],
    ]);
    await client.textFrames('r1', 3);
    await client.textFrames('r2', 3);
    expect(client.responsesOf('r3')).toHaveLength(0);
    // Once r1 is over, its id can be used again and there is room for another request.
    client.interrupt('r1');
    await client.endOf('r1');
    const from = client.received.length;
    client.request('r1');
    await client.waitFor('RESPONSE', (f) => f.payload.request_id === 'r1' && !isEndPayload(f.payload), { from });
  });

  it('rate-limits a flooding client without touching another session', async () => {
    const quiet = await registered();
    quiet.request('q1');
    await quiet.textFrames('q1', 3);

    const flooder = await registered();
    for (let i = 0; i < 60; i++) flooder.sendRaw('garbage');
    await flooder.waitFor('ERROR', (f) => f.payload.code === 'RATE_LIMITED');
    const codes = new Set(flooder.frames('ERROR').map((f) => f.payload.code));
    expect(codes).toEqual(new Set(['INVALID_JSON', 'RATE_LIMITED']));

    const before = quiet.responsesOf('q1').length;
    await quiet.textFrames('q1', before + 10);
    expect(upstream.calls[0].socketClosedAt).toBeUndefined();
  });

  it('still stops a request for a client that spent every message token on REQUESTs: INTERRUPTs have a bucket of their own', async () => {
    const client = await registered();
    client.request('r1');
    const call = await upstream.call(0);
    for (let i = 0; i < 40; i++) client.request('r1');
    const sentAt = performance.now();
    client.interrupt('r1');
    const ack = await client.waitFor('INTERRUPT_ACK');
    expect(ack.payload).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: ['r1'] });
    await expectCutWithin(call, sentAt);
    // The flood had emptied the message bucket right before the INTERRUPT.
    const codes = client.frames('ERROR').map((f) => f.payload.code);
    expect(new Set(codes)).toEqual(new Set(['DUPLICATE_REQUEST', 'RATE_LIMITED']));
    // 41 REQUESTs against a burst of 30: the last ones were refused as they arrived.
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(10);
    expect((await client.endOf('r1')).interrupted).toBe(true);

    // The INTERRUPT bucket is bounded too (a burst of 3 here).
    const errorsBefore = codes.length;
    for (let i = 0; i < 5; i++) client.interrupt('r1');
    const answered = () => client.frames('INTERRUPT_ACK').length - 1 + client.frames('ERROR').length - errorsBefore;
    await client.waitFor('ERROR', () => answered() === 5);
    expect(
      client
        .frames('ERROR')
        .slice(errorsBefore)
        .every((f) => f.payload.code === 'RATE_LIMITED'),
    ).toBe(true);
    expect(client.frames('INTERRUPT_ACK').length - 1).toBeLessThanOrEqual(3);
  });

  it('closes an oversized frame with 1009 and keeps other sessions streaming', async () => {
    const bystander = await registered();
    bystander.request('b1');
    await bystander.textFrames('b1', 2);

    const client = await registered();
    client.request('r1');
    const call = await upstream.call(1);
    client.sendRaw(JSON.stringify({ version: '1.0', msg_type: 'HEARTBEAT', payload: { pad: 'x'.repeat(5000) } }));
    expect((await client.closed).code).toBe(1009);
    // Its own request dies with the connection; the bystander's does not.
    await call.socketClosed;
    const before = bystander.responsesOf('b1').length;
    await bystander.textFrames('b1', before + 5);
  });

  it('closes a connection that never registers', async () => {
    await gateway.close();
    gateway = await startGateway({ WS_REGISTER_TIMEOUT_MS: '100', LOG_LEVEL: 'silent' });
    const client = await connect();
    expect((await nthError(client, 0)).code).toBe('REGISTER_TIMEOUT');
    expect(await client.closed).toEqual({ code: 1008, reason: 'REGISTER_TIMEOUT' });
  });

  it('refuses sessions beyond MAX_SESSIONS with SERVER_BUSY, counting those waiting for a RESUME', async () => {
    await gateway.close();
    gateway = await startGateway({ MAX_SESSIONS: '1', RESUME_GRACE_MS: '200' });
    const first = await registered();
    const second = await connect();
    second.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'k' } });
    expect((await nthError(second, 0)).code).toBe('SERVER_BUSY');
    expect((await second.closed).code).toBe(1013);
    first.close();
    await first.closed;
    await sleep(50);
    const early = await connect();
    early.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'k' } });
    expect((await nthError(early, 0)).code).toBe('SERVER_BUSY');
    await sleep(300); // the first session's grace period is over
    const third = await registered();
    expect(third.sessionId).toBeDefined();
  });

  it('refuses sockets beyond MAX_CONNECTIONS, registered or not, with SERVER_BUSY and 1013', async () => {
    await gateway.close();
    gateway = await startGateway({ MAX_CONNECTIONS: '2' });
    const session = await registered();
    const idle = await connect(); // never registers
    const refused = await connect();
    expect(await nthError(refused, 0)).toEqual({ code: 'SERVER_BUSY', message: 'The gateway is at its connection limit' });
    expect(await refused.closed).toEqual({ code: 1013, reason: 'SERVER_BUSY' });
    await stillWorks(session);
    // A place frees up when a socket closes.
    idle.close();
    await idle.closed;
    let accepted: TestClient | undefined;
    while (!accepted) {
      const next = await connect();
      const outcome = await Promise.race([
        next.register().then(
          () => 'registered',
          () => 'refused',
        ),
        next.closed.then(() => 'refused'),
      ]);
      if (outcome === 'registered') accepted = next;
      else await sleep(20);
    }
    await stillWorks(accepted);
  });

  it('answers HEARTBEAT and drops a peer that stops answering pings', async () => {
    await gateway.close();
    gateway = await startGateway({
      LLM_BASE_URL: upstream.origin + '/v1',
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      WS_PING_INTERVAL_MS: '100',
      WS_PONG_TIMEOUT_MS: '100',
    });
    const healthy = await registered();
    healthy.send('HEARTBEAT', {});
    const beat = await healthy.waitFor('HEARTBEAT');
    expect(Math.abs(beat.payload.server_time - Date.now())).toBeLessThan(5000);

    const silent = await TestClient.connect(gateway.wsUrl, { autoPong: false });
    clients.push(silent);
    await silent.register();
    silent.request('r1');
    const call = await upstream.call(0);
    expect((await silent.closed).code).toBe(1006);
    await call.socketClosed;
    // The healthy one answers its pings and stays.
    await sleep(400);
    await stillWorks(healthy);
  });
});
