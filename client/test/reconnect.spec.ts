import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream, tokenText } from '../../test/support/fake-upstream.js';
import { FaultyNetwork } from '../../test/support/faulty-network.js';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { type ConnectionStatus, GatewayClient, type GatewayClientOptions, type Reply } from '../src/index.js';
import { textIndexes, textOf } from './support/collect.js';
import { nodeSocket } from './support/node-socket.js';

const KEY = 'sdk-key';

describe('reconnecting and resuming', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let network: FaultyNetwork;
  const clients: GatewayClient[] = [];

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      ...env,
    });
    network = FaultyNetwork.towards(gateway.wsUrl);
    await network.start();
  };
  const client = (options: Partial<GatewayClientOptions> = {}) => {
    const c = new GatewayClient({
      url: network.via(gateway.wsUrl),
      apiKey: KEY,
      webSocket: nodeSocket,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      ...options,
    });
    clients.push(c);
    return c;
  };
  const statusesOf = (c: GatewayClient) => {
    const statuses: ConnectionStatus[] = [];
    c.status$.subscribe((status) => statuses.push(status));
    return statuses;
  };
  const reopened = (c: GatewayClient) =>
    firstValueFrom(
      c.status$.pipe(
        filter((s) => s === 'reconnecting'),
        take(1),
      ),
    ).then(() => firstValueFrom(c.status$.pipe(filter((s) => s === 'open'))));

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await network.stop();
    await gateway.close();
    await upstream.stop();
  });

  it('rides out a dropped connection: RESUME with last_seq, every frame of a durable reply exactly once', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 150, intervalMs: 4 };
    const c = client({ durable: true });
    const statuses = statusesOf(c);
    const { session_id: sessionId } = await c.connect();
    const reply = c.request('tell me a story');
    const all = lastValueFrom(reply.pipe(toArray()));
    await firstValueFrom(reply.text$.pipe(take(10)));
    const back = reopened(c);
    network.cutAll();
    await back;
    expect(c.sessionId).toBe(sessionId);

    const frames = await all;
    expect(textIndexes(frames)).toEqual([...Array(150).keys()]);
    expect(textOf(frames)).toBe([...Array(150).keys()].map(tokenText).join(''));
    expect(frames.at(-1)).toMatchObject({ kind: 'end', end: { interrupted: false } });
    expect(statuses).toEqual(['idle', 'connecting', 'open', 'reconnecting', 'open']);
  });

  it('notices a stalled connection by its unanswered HEARTBEAT, and reconnects', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 100, intervalMs: 5 };
    const c = client({ durable: true, heartbeat: { intervalMs: 100, timeoutMs: 200 } });
    await c.connect();
    const reply = c.request('tell me a story');
    await firstValueFrom(reply.text$.pipe(take(5)));
    const back = reopened(c);
    network.freeze();
    await back;
    const frames = await lastValueFrom(reply.pipe(toArray()));
    expect(textIndexes(frames)).toEqual([...Array(100).keys()]);
  });

  it('sends what was asked while offline once the connection is back, INTERRUPTs first', async () => {
    // One request at a time: the new one only fits if the INTERRUPT gets there before it.
    await start({ MAX_CONCURRENT_REQUESTS_PER_SESSION: '1' });
    upstream.behavior = { kind: 'stream', tokens: 400, intervalMs: 5 };
    const c = client({ durable: true, ackTimeoutMs: 10_000 });
    await c.connect();
    const running = c.request('tell me a story');
    await firstValueFrom(running.text$.pipe(take(3)));
    network.refuse(true);
    network.cutAll();
    await firstValueFrom(c.status$.pipe(filter((s) => s === 'reconnecting')));
    upstream.behavior = { kind: 'stream', tokens: 5, intervalMs: 1 };
    const queued = c.request('and this');
    const interrupted = running.interrupt();
    network.refuse(false);
    const { ack } = await interrupted;
    expect(ack).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: [running.requestId] });
    expect((await running.ended()).interrupted).toBe(true);
    expect(await queued.text()).toBe('t0 t1 t2 t3 t4 ');
  });

  it('ends a non-durable reply as the gateway did when the connection dropped', async () => {
    await start();
    const c = client();
    await c.connect();
    const reply = c.request('tell me a story');
    await firstValueFrom(reply.text$.pipe(take(3)));
    network.cutAll();
    expect(await reply.ended()).toMatchObject({ interrupted: true, interrupt_reason: 'CLIENT_DISCONNECTED' });
  });

  it('resumes a session from a resume point in a new client (a reloaded page) and adopts the running reply', async () => {
    await start();
    upstream.behavior = { kind: 'stream', tokens: 120, intervalMs: 4 };
    const before = client({ durable: true });
    await before.connect();
    const resumeFrom = before.lastSeq;
    const reply = before.request('tell me a story');
    await firstValueFrom(reply.text$.pipe(take(10)));
    const point = before.resumePoint(resumeFrom)!;
    before.close();

    const after = client({ durable: true });
    const adopted = firstValueFrom(after.adopted$);
    await after.connect(JSON.parse(JSON.stringify(point)) as typeof point);
    expect(after.sessionId).toBe(point.registerAck.session_id);
    const resumed: Reply = await adopted;
    expect(resumed.requestId).toBe(reply.requestId);
    expect(resumed.adopted).toBe(true);
    const frames = await lastValueFrom(resumed.pipe(toArray()));
    expect(textIndexes(frames)).toEqual([...Array(120).keys()]);
  });

  it('follows SERVER_SHUTDOWN to the next gateway, where it registers anew', async () => {
    await start();
    const c = client();
    const { session_id: old } = await c.connect();
    const notice = firstValueFrom(c.messages$.pipe(filter((m) => m.msg_type === 'SERVER_SHUTDOWN')));
    const fresh = firstValueFrom(c.sessions$);
    const next = await startGateway({ LLM_BASE_URL: `${upstream.origin}/v1`, LLM_API_KEY: DEFAULT_UPSTREAM_KEY, GATEWAY_API_KEYS: KEY });
    network.retarget(next.wsUrl);
    const draining = gateway;
    gateway = next;
    await draining.close(); // SERVER_SHUTDOWN to every session, then close 1001
    expect(await notice).toMatchObject({ payload: { reason: 'TEST', retry_after_ms: 1000 } });
    expect((await fresh).session_id).not.toBe(old);
    upstream.behavior = { kind: 'stream', tokens: 2, intervalMs: 1 };
    expect(await c.request('hello again').text()).toBe('t0 t1 ');
  });

  it('registers a new session when the old one is gone, and fails its replies with SessionLostError', async () => {
    await start({ RESUME_GRACE_MS: '200' });
    const c = client({ durable: true });
    const { session_id: lost } = await c.connect();
    const reply = c.request('tell me a story');
    const call = await upstream.call(0);
    await firstValueFrom(reply.text$.pipe(take(3)));
    const sessions = firstValueFrom(c.sessions$);
    network.refuse(true);
    network.cutAll();
    // The gateway gives up on the session (and cancels its durable request) after the grace period.
    await call.socketClosed;
    network.refuse(false);
    const fresh = await sessions;
    expect(fresh.session_id).not.toBe(lost);
    await expect(reply.ended()).rejects.toMatchObject({ name: 'SessionLostError', sessionId: lost });
    upstream.behavior = { kind: 'stream', tokens: 2, intervalMs: 1 };
    expect(await c.request('again').text()).toBe('t0 t1 ');
  });
});
