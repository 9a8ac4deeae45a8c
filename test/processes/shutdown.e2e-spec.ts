import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, lastUserText } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { TestClient } from '../support/test-client.js';

const KEY = 'shutdown-key';
const auth = { auth_type: 'API_KEY', api_key: KEY };

describe('graceful shutdown on SIGTERM (the built gateway as a process)', () => {
  let upstream: FakeUpstream;
  let gateway: GatewayProcess;
  const clients: TestClient[] = [];

  const start = async (env: Record<string, string>) => {
    gateway = await GatewayProcess.start({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      TTS_PROVIDER: 'none',
      ...env,
    });
  };
  const registered = async (register: Record<string, unknown> = {}) => {
    const c = await TestClient.registered(gateway.wsUrl, { auth, ...register });
    clients.push(c);
    return c;
  };

  beforeEach(() => {
    upstream = new FakeUpstream();
    // "short …" asks for a reply that ends soon; anything else streams on and on.
    upstream.behavior = { kind: 'stream', intervalMs: 20, tokens: (body) => (lastUserText(body).startsWith('short') ? 40 : 5000) };
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.stop();
    await upstream.stop();
  });

  it('tells clients, cancels what is not durable, lets durable requests finish, closes with 1001 and exits 0', async () => {
    await start({ SHUTDOWN_DEADLINE_MS: '15000' });
    const casual = await registered();
    const keeper = await registered({ durable: true });
    casual.request('chat', 'tell me everything');
    keeper.request('job', 'short job please');
    await Promise.all([casual.textFrames('chat', 3), keeper.textFrames('job', 3)]);
    const chatCall = upstream.calls.find((call) => lastUserText(call.body).startsWith('tell'))!;

    const signalledAt = performance.now();
    gateway.kill('SIGTERM');

    const notice = await casual.waitFor('SERVER_SHUTDOWN');
    expect(notice.payload).toMatchObject({ reason: 'SIGTERM', retry_after_ms: expect.any(Number), deadline: expect.any(Number) });
    await keeper.waitFor('SERVER_SHUTDOWN');
    const chatEnd = await casual.endOf('chat');
    expect(chatEnd).toMatchObject({ interrupted: true, interrupt_reason: 'SERVER_SHUTDOWN' });
    await expectCutWithin(chatCall, signalledAt, 2000);

    const jobEnd = await keeper.endOf('job', 10_000);
    expect(jobEnd.interrupted).toBe(false);
    expect(jobEnd.finish_reason).toBe('stop');
    expect(keeper.textsOf('job')).toHaveLength(40);

    expect(await casual.closed).toMatchObject({ code: 1001 });
    expect(await keeper.closed).toMatchObject({ code: 1001 });
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
  });

  it('cancels durable requests still running at the deadline, then exits 0', async () => {
    await start({ SHUTDOWN_DEADLINE_MS: '300' });
    const keeper = await registered({ durable: true });
    keeper.request('job', 'a long job');
    await keeper.textFrames('job', 3);

    gateway.kill('SIGTERM');
    await keeper.waitFor('SERVER_SHUTDOWN');
    const end = await keeper.endOf('job', 5000);
    expect(end).toMatchObject({ interrupted: true, interrupt_reason: 'SERVER_SHUTDOWN' });
    await expect(upstream.calls[0].socketClosed).resolves.toEqual(expect.any(Number));
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
  });

  it('answers /ready with 503 while it drains, and refuses new work there with 503 and Retry-After', async () => {
    await start({ SHUTDOWN_DEADLINE_MS: '15000' });
    const keeper = await registered({ durable: true });
    keeper.request('job', 'a long job');
    await keeper.textFrames('job', 3);

    gateway.kill('SIGTERM');
    await keeper.waitFor('SERVER_SHUTDOWN');
    const ready = await fetch(`${gateway.httpUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ error: { code: 'NOT_READY' } });
    // A WebSocket upgrade is refused (a load balancer may try another instance)…
    await expect(TestClient.connect(gateway.wsUrl)).rejects.toThrow(/503/);
    // …and so is a new chat completion, with the time to wait.
    const completion = await fetch(`${gateway.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(completion.status).toBe(503);
    expect(completion.headers.get('retry-after')).toBe('1');
    expect(await completion.json()).toMatchObject({ error: { code: 'NOT_READY' } });
    // The durable job is still streaming meanwhile.
    const before = keeper.textsOf('job').length;
    await keeper.textFrames('job', before + 3);
  });

  it('exits within the deadline plus a second with half-sent and idle HTTP connections open', async () => {
    await start({ SHUTDOWN_DEADLINE_MS: '1000' });
    const keeper = await registered({ durable: true });
    keeper.request('job', 'a long job');
    await keeper.textFrames('job', 3);
    // A request line and one header, and nothing more; a body cut short; a keep-alive connection gone idle.
    const halfHeaders = await rawHttp(gateway.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n');
    const halfBody = await rawHttp(
      gateway.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
    );
    const idle = await rawHttp(gateway.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');

    const signalledAt = performance.now();
    gateway.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(1000 + 1000);
    // The gateway closed them: gone with it, not left half-open.
    await Promise.all([halfHeaders, halfBody, idle].map((socket) => (socket.closed ? Promise.resolve() : once(socket, 'close'))));
  });
});

/** A TCP connection to the gateway that has written `data`. */
async function rawHttp(port: number, data: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.resume();
  socket.write(data);
  return socket;
}
