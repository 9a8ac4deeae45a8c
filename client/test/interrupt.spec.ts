import { firstValueFrom, take } from 'rxjs';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from '../../test/support/fake-upstream.js';
import { FaultyNetwork } from '../../test/support/faulty-network.js';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { GatewayClient, type InterruptReport, type ReplyFrame, type ServerEnvelope } from '../src/index.js';
import { nodeSocket } from './support/node-socket.js';

const KEY = 'sdk-key';

describe('optimistic interrupts', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let network: FaultyNetwork;
  let client: GatewayClient;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({ LLM_BASE_URL: await upstream.start(), LLM_API_KEY: DEFAULT_UPSTREAM_KEY, GATEWAY_API_KEYS: KEY });
    network = FaultyNetwork.towards(gateway.wsUrl);
    await network.start();
    client = new GatewayClient({ url: network.via(gateway.wsUrl), apiKey: KEY, webSocket: nodeSocket, ackTimeoutMs: 10_000 });
    await client.connect();
  });

  afterEach(async () => {
    client.close();
    await network.stop();
    await gateway.close();
    await upstream.stop();
  });

  const textFramesOnTheWire = (requestId: string, from: ServerEnvelope[]) =>
    from.filter(
      (m) =>
        m.msg_type === 'RESPONSE' && m.payload.request_id === requestId && 'text_stream_seq' in m.payload && m.payload.text_stream_seq >= 0,
    );

  it('drops the frames of an interrupted request at once, before the ACK, and reports the latencies', async () => {
    const reply = client.request('tell me a story');
    const delivered: ReplyFrame[] = [];
    reply.subscribe((frame) => delivered.push(frame));
    const call = await upstream.call(0);
    await firstValueFrom(reply.text$.pipe(take(3)));

    // Frames already on their way when the user stops: hold them in the network, stop, then let them through.
    network.freeze();
    await network.held(2000);
    const wire: ServerEnvelope[] = [];
    client.messages$.subscribe((m) => wire.push(m));
    const deliveredBefore = delivered.length;
    const sentAt = performance.now();
    const outcome = client.interrupt(reply.requestId);
    expect(reply.interrupted).toBe(true);
    network.thaw();
    const { ack, ackMs } = await outcome;

    const ackAt = wire.findIndex((m) => m.msg_type === 'INTERRUPT_ACK');
    expect(textFramesOnTheWire(reply.requestId, wire.slice(0, ackAt)).length).toBeGreaterThan(0);
    const end = await reply.ended();
    // Nothing but the end frame reached the reply after interrupt().
    expect(delivered.slice(deliveredBefore).map((f) => f.kind)).toEqual(['end']);
    expect(end).toMatchObject({ interrupted: true, interrupt_reason: 'USER_INTERRUPT' });

    expect(ack).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: [reply.requestId] });
    expect(ackMs).toBeGreaterThan(0);
    expect(ackMs).toBeLessThanOrEqual(performance.now() - sentAt);
    const upstreamClosedMs = ack.upstream_closed_ms![reply.requestId];
    expect(upstreamClosedMs).toBeLessThanOrEqual(ackMs);
    await expectCutWithin(call, sentAt, 2000);
  });

  it('barges in with ask(): the running reply is interrupted as USER_NEW_INPUT and the new one runs', async () => {
    const reports: InterruptReport[] = [];
    client.interrupts$.subscribe((report) => reports.push(report));
    const first = client.request('tell me a story');
    const firstCall = await upstream.call(0);
    await firstValueFrom(first.text$.pipe(take(2)));
    upstream.behavior = { kind: 'stream', tokens: 10, intervalMs: 1 };
    const second = client.ask('no, something else');
    expect(first.interrupted).toBe(true);
    expect(await first.ended()).toMatchObject({ interrupted: true, interrupt_reason: 'USER_NEW_INPUT' });
    expect(await second.ended()).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    await firstCall.socketClosed;
    expect(firstCall.completed).toBe(false);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ requestId: first.requestId, reason: 'USER_NEW_INPUT', stopped: [first.requestId] });
    expect('outcome' in reports[0] && reports[0].outcome.ack.status).toBe('SUCCESS');
  });

  it('stops every running reply without an id', async () => {
    const replies = [client.request('one'), client.request('two')];
    await Promise.all(replies.map((r) => firstValueFrom(r.text$)));
    const { ack } = await client.interrupt(undefined, { reason: 'STOP_ALL' });
    expect([...ack.interrupted_request_ids].sort()).toEqual(replies.map((r) => r.requestId).sort());
    for (const reply of replies) {
      expect(reply.interrupted).toBe(true);
      expect((await reply.ended()).interrupt_reason).toBe('STOP_ALL');
    }
  });

  it('refuses an INTERRUPT of scope "request" that names no request, before sending it', async () => {
    await expect(client.interrupt(undefined, { scope: 'request' })).rejects.toThrow('scope "request" needs a request id');
  });

  it('interrupts every running reply with one INTERRUPT each', async () => {
    const replies = [client.request('one'), client.request('two')];
    await Promise.all(replies.map((r) => firstValueFrom(r.text$)));
    const outcomes = await client.interruptAll('USER_STOP');
    expect(outcomes.map((o) => o.ack.interrupted_request_ids)).toEqual(replies.map((r) => [r.requestId]));
    for (const reply of replies) expect((await reply.ended()).interrupt_reason).toBe('USER_STOP');
    expect(await client.interruptAll()).toEqual([]);
  });

  it('fails with a clear AckTimeoutError when the ACK does not come in time', async () => {
    client.close();
    client = new GatewayClient({
      url: network.via(gateway.wsUrl),
      apiKey: KEY,
      webSocket: nodeSocket,
      ackTimeoutMs: 300,
      heartbeat: { intervalMs: 60_000, timeoutMs: 60_000 },
    });
    await client.connect();
    const reply = client.request('tell me a story');
    await firstValueFrom(reply.text$);
    network.freeze();
    const reports: InterruptReport[] = [];
    client.interrupts$.subscribe((report) => reports.push(report));
    await expect(reply.interrupt()).rejects.toThrow(`No INTERRUPT_ACK from the gateway within 300 ms`);
    expect(reports[0]).toMatchObject({ requestId: reply.requestId, error: { name: 'AckTimeoutError', awaited: 'INTERRUPT_ACK' } });
    // Stopped locally all the same; the end frame comes once the network does.
    expect(reply.interrupted).toBe(true);
    network.thaw();
    expect((await reply.ended()).interrupted).toBe(true);
  });

  it('interrupting a reply that already ended is NOT_FOUND, and harmless', async () => {
    upstream.behavior = { kind: 'stream', tokens: 3, intervalMs: 1 };
    const reply = client.request('short');
    await reply.ended();
    const { ack } = await reply.interrupt();
    expect(ack).toMatchObject({ status: 'NOT_FOUND', interrupted_request_ids: [] });
    expect(ack.upstream_closed_ms).toBeUndefined();
  });
});
