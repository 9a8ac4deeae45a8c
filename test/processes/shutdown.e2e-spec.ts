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
    await expect(upstream.calls[0]!.socketClosed).resolves.toEqual(expect.any(Number));
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses new connections while it drains', async () => {
    await start({ SHUTDOWN_DEADLINE_MS: '15000' });
    const keeper = await registered({ durable: true });
    keeper.request('job', 'a long job');
    await keeper.textFrames('job', 3);

    gateway.kill('SIGTERM');
    await keeper.waitFor('SERVER_SHUTDOWN');
    await expect(TestClient.connect(gateway.wsUrl)).rejects.toThrow(/ECONNREFUSED/);
  });
});
