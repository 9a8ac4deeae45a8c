import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream, tokenText } from '../../test/support/fake-upstream.js';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { type ConnectionStatus, GatewayClient, GatewayError, type ReplyFrame } from '../src/index.js';
import { textIndexes, textOf } from './support/collect.js';
import { nodeSocket } from './support/node-socket.js';

const KEY = 'sdk-key';

describe('GatewayClient against a real gateway', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: GatewayClient[] = [];

  const client = (options: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) => {
    const c = new GatewayClient({ url: gateway.wsUrl, apiKey: KEY, webSocket: nodeSocket, ...options });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      MAX_CONCURRENT_REQUESTS_PER_SESSION: '2',
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await upstream.stop();
  });

  it('registers, and tells what the gateway offers', async () => {
    const c = client({ platform: 'jest' });
    const statuses: ConnectionStatus[] = [];
    c.status$.subscribe((status) => statuses.push(status));
    const ack = await c.connect();
    expect(ack).toMatchObject({ protocol_version: '1.0', auth_mode: 'api_key', llm: { simulated: false } });
    expect(c.sessionId).toBe(ack.session_id);
    expect(statuses).toEqual(['idle', 'connecting', 'open']);
  });

  it('streams a reply as an Observable: text in order, one end frame, then complete', async () => {
    upstream.behavior = { kind: 'stream', tokens: 25, intervalMs: 1 };
    const c = client();
    await c.connect();
    const frames = await lastValueFrom(c.request('hello').pipe(toArray()));
    expect(textIndexes(frames)).toEqual([...Array(25).keys()]);
    expect(textOf(frames)).toBe([...Array(25).keys()].map(tokenText).join(''));
    expect(frames.at(-1)).toMatchObject({ kind: 'end', end: { interrupted: false, finish_reason: 'stop' } });
    expect(frames.filter((f) => f.kind === 'end')).toHaveLength(1);
  });

  it('streams the same reply as an async iterator, to every consumer from the first frame', async () => {
    upstream.behavior = { kind: 'stream', tokens: 12, intervalMs: 1 };
    const c = client();
    await c.connect();
    const reply = c.request('hello');
    const seen: ReplyFrame[] = [];
    for await (const frame of reply) seen.push(frame);
    // Subscribed after the end: still every frame, from the first.
    const late = await lastValueFrom(reply.pipe(toArray()));
    expect(late).toEqual(seen);
    expect(await reply.text()).toBe([...Array(12).keys()].map(tokenText).join(''));
    expect((await reply.ended()).usage).toMatchObject({ completion_tokens: 12, source: 'provider' });
  });

  it('stops the iteration cleanly when the loop breaks, and the reply goes on for others', async () => {
    upstream.behavior = { kind: 'stream', tokens: 30, intervalMs: 1 };
    const c = client();
    await c.connect();
    const reply = c.request('hello');
    const firstThree: string[] = [];
    for await (const frame of reply) {
      if (frame.kind === 'text') firstThree.push(frame.text);
      if (firstThree.length === 3) break;
    }
    expect(firstThree).toEqual([tokenText(0), tokenText(1), tokenText(2)]);
    expect((await reply.ended()).interrupted).toBe(false);
  });

  it('refuses a request the gateway refuses with a GatewayError, and keeps the others going', async () => {
    upstream.behavior = { kind: 'stream', tokens: 40, intervalMs: 5 };
    const c = client();
    await c.connect();
    const running = [c.request('one'), c.request('two')];
    const third = c.request('three');
    await expect(third.ended()).rejects.toMatchObject({ name: 'GatewayError', code: 'TOO_MANY_REQUESTS' });
    await expect(lastValueFrom(third)).rejects.toBeInstanceOf(GatewayError);
    const iterated: ReplyFrame[] = [];
    const iterating = (async () => {
      for await (const frame of third) iterated.push(frame);
    })();
    await expect(iterating).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(iterated).toEqual([]);
    for (const reply of running) expect((await reply.ended()).interrupted).toBe(false);
  });

  it('reads and clears the history', async () => {
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    const c = client();
    await c.connect();
    await c.request('first question').ended();
    const history = await c.history();
    expect(history.map((m) => [m.role, m.content])).toEqual([
      ['user', 'first question'],
      ['assistant', 't0 t1 t2 '],
    ]);
    expect(await c.reset()).toBe(2);
    expect(await c.history()).toEqual([]);
  });

  it('fails to connect with a wrong key, and says why', async () => {
    const c = client({ apiKey: 'wrong' });
    await expect(c.connect()).rejects.toMatchObject({ name: 'GatewayError', code: 'AUTH_FAILED' });
    expect(c.status).toBe('closed');
  });

  it('fails what is pending when closed, and at once what is asked after', async () => {
    // Longer than jest waits: an answer waited for after close() would time the test out.
    const c = client({ ackTimeoutMs: 600_000 });
    await c.connect();
    const reply = c.request('hello');
    await firstValueFrom(reply.text$.pipe(take(1)));
    c.close();
    await expect(reply.ended()).rejects.toMatchObject({ name: 'ClientClosedError' });
    await expect(c.request('again').ended()).rejects.toMatchObject({ name: 'ClientClosedError' });
    await expect(c.history()).rejects.toMatchObject({ name: 'ClientClosedError' });
    await expect(c.interrupt()).rejects.toMatchObject({ name: 'ClientClosedError' });
  });
});
