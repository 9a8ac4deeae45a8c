import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream, messagesOf, type ScriptedToolCall } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';
import { expectClosedWithin } from './support/expect-cut.js';

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

type Body = Record<string, unknown>;
const lastMessage = (body: Body) => messagesOf(body).at(-1);
/** The model: asks for `calls` after a user message, answers in words after tool results. */
function toolScript(calls: (body: Body) => ScriptedToolCall[], answer = ['All ', 'done. ']) {
  return {
    kind: 'stream' as const,
    intervalMs: 2,
    tokens: (body: Body) => (lastMessage(body)?.role === 'tool' ? answer.length : 0),
    words: answer,
    toolCalls: (body: Body) => (lastMessage(body)?.role === 'user' ? calls(body) : undefined),
  };
}
const call = (id: string, name: string, args: object = {}): ScriptedToolCall => ({ id, name, arguments: JSON.stringify(args) });
/** The tool message answering `callId` in a model call's body. */
const toolResult = (body: Body, callId: string) => messagesOf(body).find((m) => m.role === 'tool' && m.tool_call_id === callId)?.content;

describe('tool calls that stay consistent through interrupts', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let slowServer: Server;
  let slowUrl: string;
  let slowClosed: Promise<number>;
  let c: TestClient;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    slowServer = createServer((req, res) => {
      slowClosed = new Promise((resolve) => req.socket.once('close', () => resolve(performance.now())));
      res.writeHead(200).write('loading');
    });
    await new Promise<void>((resolve) => slowServer.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/slow`;
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TOOLS_HTTP_ALLOWED_HOSTS: '127.0.0.1',
      // The slow server is on loopback, which http_get reaches only when told to.
      TOOLS_HTTP_ALLOWED_NETWORKS: '127.0.0.0/8',
      TOOLS_HTTP_ALLOWED_PORTS: String((slowServer.address() as AddressInfo).port),
      TOOLS_HTTP_TIMEOUT_MS: '30000',
    });
    c = await TestClient.registered(gateway.wsUrl, { function_calling: [WEATHER_TOOL] });
  });

  afterEach(async () => {
    c.close();
    await gateway.close();
    await upstream.stop();
    slowServer.closeAllConnections();
    await new Promise((resolve) => slowServer.close(resolve));
  });

  /** A new turn after the interrupted one: the fake upstream answers 400 if any tool call lacks its result. */
  const nextTurnSucceeds = async () => {
    upstream.behavior = { kind: 'stream', words: ['Fine. '], tokens: 1, intervalMs: 0 };
    c.request('next', 'and now?');
    expect(await c.endOf('next')).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    expect(c.frames('ERROR')).toEqual([]);
    return upstream.calls.at(-1)!.body;
  };

  it('offers the server tools and the client’s functions to the model', async () => {
    upstream.behavior = { kind: 'stream', words: ['Hi. '], tokens: 1, intervalMs: 0 };
    c.request('r1', 'hello');
    await c.endOf('r1');
    const names = (upstream.calls[0].body.tools as { function: { name: string } }[]).map((t) => t.function.name).sort();
    expect(names).toEqual(['get_current_time', 'get_weather', 'http_get']);
  });

  it('runs a server tool and gives the model its result', async () => {
    upstream.behavior = toolScript(() => [call('c1', 'get_current_time', { timezone: 'Asia/Shanghai' })], ['It ', 'is ', 'late. ']);
    c.request('r1', 'what time is it?');
    expect(await c.endOf('r1')).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    expect(c.frames('TOOL_STATUS').map((f) => f.payload.state)).toEqual(['started', 'completed']);
    const result = JSON.parse(toolResult(upstream.calls[1].body, 'c1') as string) as { timezone: string };
    expect(result.timezone).toBe('Asia/Shanghai');
    expect(
      c
        .textsOf('r1')
        .map((t) => ('text' in t.content ? t.content.text : ''))
        .join(''),
    ).toBe('It is late. ');
  });

  it('asks the client with FUNCTION_CALL and continues with its FUNCTION_RESULT', async () => {
    upstream.behavior = toolScript(() => [call('w1', 'get_weather', { city: 'Paris' })]);
    c.request('r1', 'weather?');
    const fc = await c.waitFor('FUNCTION_CALL');
    expect(fc.payload).toEqual({ request_id: 'r1', call_id: 'w1', name: 'get_weather', arguments: '{"city":"Paris"}' });
    c.send('FUNCTION_RESULT', { request_id: 'r1', call_id: 'w1', result: { sky: 'clear' } });
    await c.endOf('r1');
    expect(toolResult(upstream.calls[1].body, 'w1')).toBe('{"sky":"clear"}');
    expect(c.frames('TOOL_STATUS').map((f) => [f.payload.executor, f.payload.state])).toEqual([
      ['client', 'started'],
      ['client', 'completed'],
    ]);
  });

  it('interrupted during a server tool: its signal fires at once, the result is "cancelled by user", the next turn works', async () => {
    upstream.behavior = toolScript(() => [call('h1', 'http_get', { url: slowUrl })]);
    c.request('r1', 'fetch it');
    await c.waitFor('TOOL_STATUS', (f) => f.payload.state === 'started');
    await sleep(50); // the tool's request is now waiting on the slow server
    const sentAt = performance.now();
    c.interrupt('r1');
    // No model stream was open (its round had ended in tool calls): nothing to report as closed.
    expect((await c.waitFor('INTERRUPT_ACK')).payload.upstream_closed_ms).toBeUndefined();
    await expectClosedWithin({ label: 'http_get', socketClosed: slowClosed, ranToEnd: () => false }, sentAt, 1000);
    const end = await c.endOf('r1');
    expect(end.interrupted).toBe(true);
    const cancelled = c.frames('TOOL_STATUS').find((f) => f.payload.state === 'cancelled');
    expect(cancelled?.payload).toMatchObject({ call_id: 'h1', name: 'http_get', executor: 'server' });
    const ackIndex = c.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    const statusIndex = c.indexOf((f) => f.msg_type === 'TOOL_STATUS' && f.payload.state === 'cancelled');
    const endIndex = c.indexOf((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === 'r1' && 'interrupted' in f.payload);
    expect(ackIndex).toBeLessThan(statusIndex);
    expect(statusIndex).toBeLessThan(endIndex);

    const body = await nextTurnSucceeds();
    expect(toolResult(body, 'h1')).toBe('{"error":"cancelled by user"}');
  });

  it('interrupted during a client FUNCTION_CALL: FUNCTION_CANCEL, and a late FUNCTION_RESULT is ignored', async () => {
    upstream.behavior = toolScript(() => [call('w1', 'get_weather', { city: 'Oslo' })]);
    c.request('r1', 'weather?');
    await c.waitFor('FUNCTION_CALL');
    c.interrupt('r1');
    expect((await c.waitFor('FUNCTION_CANCEL')).payload).toEqual({ request_id: 'r1', call_id: 'w1' });
    await c.endOf('r1');
    c.send('FUNCTION_RESULT', { request_id: 'r1', call_id: 'w1', result: { sky: 'too late' } });
    const body = await nextTurnSucceeds();
    expect(toolResult(body, 'w1')).toBe('{"error":"cancelled by user"}');
    expect(JSON.stringify(body)).not.toContain('too late');
  });

  it('withdraws a FUNCTION_CALL the client did not answer in time with FUNCTION_CANCEL, and goes on without it', async () => {
    await gateway.close();
    gateway = await startGateway({
      LLM_BASE_URL: upstream.origin + '/v1',
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TOOLS_CLIENT_TIMEOUT_MS: '300',
    });
    c.close();
    c = await TestClient.registered(gateway.wsUrl, { function_calling: [WEATHER_TOOL] });
    upstream.behavior = toolScript(() => [call('w1', 'get_weather', { city: 'Lima' })]);
    c.request('r1', 'weather?');
    await c.waitFor('FUNCTION_CALL');
    expect((await c.waitFor('FUNCTION_CANCEL')).payload).toEqual({ request_id: 'r1', call_id: 'w1' });
    const end = await c.endOf('r1');
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'stop' });
    expect(c.frames('TOOL_STATUS').map((f) => [f.payload.state, f.payload.error])).toEqual([
      ['started', undefined],
      ['failed', 'the client did not answer within 300 ms'],
    ]);
    const cancelIndex = c.indexOf((f) => f.msg_type === 'FUNCTION_CANCEL');
    expect(cancelIndex).toBeLessThan(c.indexOf((f) => f.msg_type === 'TOOL_STATUS' && f.payload.state === 'failed'));
    expect(toolResult(upstream.calls[1].body, 'w1')).toBe('{"error":"the client did not answer within 300 ms"}');
    // Too late: ignored.
    c.send('FUNCTION_RESULT', { request_id: 'r1', call_id: 'w1', result: { sky: 'late' } });
    await nextTurnSucceeds();
  });

  it('interrupted between two model calls: the finished tool keeps its result', async () => {
    upstream.behavior = {
      ...toolScript(() => [call('t1', 'get_current_time')]),
      tokens: (body: Body) => (lastMessage(body)?.role === 'tool' ? 2000 : 0),
      intervalMs: 5,
    };
    c.request('r1', 'time, then a long story');
    await c.textFrames('r1', 3);
    c.interrupt('r1');
    await c.endOf('r1');
    const body = await nextTurnSucceeds();
    expect(JSON.parse(toolResult(body, 't1') as string)).toHaveProperty('iso_utc');
    const assistant = messagesOf(body).filter((m) => m.role === 'assistant');
    expect(assistant[0]).toMatchObject({ content: null, tool_calls: [{ id: 't1' }] });
    expect(String(assistant[1]?.content)).toMatch(/^All done\. /);
  });

  it('interrupted with two parallel calls, one finished: real result for one, "cancelled by user" for the other', async () => {
    upstream.behavior = toolScript(() => [call('fast', 'get_current_time'), call('slow', 'http_get', { url: slowUrl })]);
    c.request('r1', 'both');
    await c.waitFor('TOOL_STATUS', (f) => f.payload.call_id === 'fast' && f.payload.state === 'completed');
    await c.waitFor('TOOL_STATUS', (f) => f.payload.call_id === 'slow' && f.payload.state === 'started');
    c.interrupt('r1');
    await c.endOf('r1');
    expect(
      c
        .frames('TOOL_STATUS')
        .filter((f) => f.payload.state === 'cancelled')
        .map((f) => f.payload.call_id),
    ).toEqual(['slow']);
    const body = await nextTurnSucceeds();
    expect(JSON.parse(toolResult(body, 'fast') as string)).toHaveProperty('iso_utc');
    expect(toolResult(body, 'slow')).toBe('{"error":"cancelled by user"}');
  });

  it('stops after the configured number of model calls, still answering every tool call', async () => {
    upstream.behavior = {
      kind: 'stream',
      intervalMs: 0,
      tokens: 0,
      toolCalls: (body: Body) => [call(`loop${upstream.calls.length}`, 'get_current_time')].filter(() => messagesOf(body).length > 0),
    };
    c.request('r1', 'loop forever');
    const end = await c.endOf('r1');
    expect(upstream.calls).toHaveLength(4);
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'tool_calls' });
    const body = await nextTurnSucceeds();
    expect(toolResult(body, 'loop4')).toBe('{"error":"no more than 4 model calls per turn"}');
  });

  it('refuses client functions that clash with server tools or are malformed', async () => {
    for (const function_calling of [
      [{ type: 'function', function: { name: 'get_current_time' } }],
      [{ type: 'function', function: { name: 'has spaces' } }],
      [WEATHER_TOOL, WEATHER_TOOL],
    ]) {
      const other = await TestClient.connect(gateway.wsUrl);
      other.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'k' }, function_calling } as never);
      expect((await other.waitFor('ERROR')).payload.code).toBe('INVALID_MESSAGE');
      other.close();
    }
  });
});
