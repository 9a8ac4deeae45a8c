import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream, messagesOf, type ScriptedToolCall } from '../../test/support/fake-upstream.js';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { type ClientFunction, GatewayClient, type JsonValue } from '../src/index.js';
import { nodeSocket } from './support/node-socket.js';

type Body = Record<string, unknown>;
const lastRole = (body: Body) => messagesOf(body).at(-1)?.role;
/** The model: calls `get_weather` after the user speaks, answers "Done. " once it has the result. */
const weatherScript = (args: object) => ({
  kind: 'stream' as const,
  intervalMs: 1,
  tokens: (body: Body) => (lastRole(body) === 'tool' ? 1 : 0),
  words: ['Done. '],
  toolCalls: (body: Body): ScriptedToolCall[] | undefined =>
    lastRole(body) === 'user' ? [{ id: 'call_1', name: 'get_weather', arguments: JSON.stringify(args) }] : undefined,
});
const toolResult = (body: Body) => messagesOf(body).find((m) => m.role === 'tool')?.content;

describe('client functions (FUNCTION_CALL handlers)', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let client: GatewayClient;

  const connect = async (getWeather: ClientFunction['run']) => {
    client = new GatewayClient({
      url: gateway.wsUrl,
      webSocket: nodeSocket,
      functions: {
        get_weather: {
          description: 'The weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          run: getWeather,
        },
      },
    });
    await client.connect();
  };

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({ LLM_BASE_URL: await upstream.start(), LLM_API_KEY: DEFAULT_UPSTREAM_KEY });
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
    await upstream.stop();
  });

  it('declares the functions, runs the handler with the arguments and gives the model its result', async () => {
    upstream.behavior = weatherScript({ city: 'Paris' });
    const calls: JsonValue[] = [];
    await connect(async (args) => {
      calls.push(args);
      return { sky: 'clear', celsius: 21 };
    });
    const frames = await lastValueFrom(client.request('weather in Paris?').pipe(toArray()));
    const offered = (upstream.calls[0].body.tools as { function: { name: string; parameters: unknown } }[]).find(
      (t) => t.function.name === 'get_weather',
    );
    expect(offered?.function.parameters).toEqual({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(toolResult(upstream.calls[1].body)).toBe('{"sky":"clear","celsius":21}');
    expect(frames.flatMap((f) => (f.kind === 'tool' ? [[f.status.executor, f.status.state]] : []))).toEqual([
      ['client', 'started'],
      ['client', 'completed'],
    ]);
    expect(frames.at(-1)).toMatchObject({ kind: 'end', end: { interrupted: false } });
  });

  it('answers a handler that throws with an error result', async () => {
    upstream.behavior = weatherScript({ city: 'Atlantis' });
    await connect(() => {
      throw new Error('no such city');
    });
    await client.request('weather in Atlantis?').ended();
    expect(toolResult(upstream.calls[1].body)).toBe('{"error":"no such city"}');
  });

  it('aborts the handler’s signal when the user interrupts', async () => {
    upstream.behavior = weatherScript({ city: 'Oslo' });
    let aborted!: () => void;
    const abortedNow = new Promise<void>((resolve) => (aborted = resolve));
    await connect((_args, call) => {
      call.signal.addEventListener('abort', () => aborted());
      return new Promise<JsonValue>(() => undefined); // never answers by itself
    });
    const results: unknown[] = [];
    client.messages$.pipe(filter((m) => m.msg_type === 'TOOL_STATUS')).subscribe((m) => results.push(m.payload));
    const reply = client.request('weather in Oslo?');
    await firstValueFrom(client.messages$.pipe(filter((m) => m.msg_type === 'FUNCTION_CALL')));
    await reply.interrupt();
    await abortedNow;
    expect(await reply.ended()).toMatchObject({ interrupted: true });
    expect(results).toEqual([
      expect.objectContaining({ state: 'started' }),
      expect.objectContaining({ state: 'cancelled', executor: 'client' }),
    ]);
  });
});
