import type { ParsedClientPayloads, ToolDefinition } from '@agent-gateway/protocol';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { Observable, type Subscriber } from 'rxjs';
import { silentLogger } from '../../test/support/silent-logger.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { RemoteStops } from '../cluster/remote-stops.service.js';
import type { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import type { LlmEvent } from '../llm/llm-events.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisService } from '../redis/redis.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { Session } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionLogMirror } from '../session/session-log-mirror.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { StopService } from '../stops/stop.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { SpeechService } from '../tts/speech.service.js';
import { InterruptService } from './interrupts.service.js';
import { ReplyStream } from './reply-stream.service.js';
import { RequestEndings } from './request-endings.service.js';
import { RequestRunner } from './request-runner.service.js';
import { SpokenReplies } from './spoken-replies.js';

interface ModelCall {
  readonly subscriber: Subscriber<LlmEvent>;
  tornDown: boolean;
}

/** A model whose calls stream until the test ends them; each remembers whether it was torn down. */
class ScriptedLlm extends LlmProvider {
  readonly descriptor = { provider: 'scripted', model: 'scripted', simulated: false };
  readonly calls: ModelCall[] = [];
  stream(): Observable<LlmEvent> {
    return new Observable<LlmEvent>((subscriber) => {
      const call: ModelCall = { subscriber, tornDown: false };
      this.calls.push(call);
      return () => (call.tornDown = true);
    });
  }
}

class NoMirror extends SessionLogMirror {
  readonly enabled = false;
  append(): void {
    // Nothing is mirrored without Redis.
  }
}

interface Frame {
  msg_type: string;
  seq: number;
  payload: Record<string, unknown>;
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const config = loadConfig({});
const weather: ToolDefinition = { type: 'function', function: { name: 'get_weather' } };
const limits = { outbound: { highWaterBytes: 64 * 1024, hardLimitBytes: 8 * 1024 * 1024 }, log: config.eventLog };
const prefs = {
  platform: 'test',
  requireTts: false,
  audioTransport: 'json' as const,
  durable: false,
  clientTools: new Map([['get_weather', weather]]),
};
const newSession = (id: string, userId = 'alice') => new Session(id, { userId, admin: false }, prefs, limits, () => undefined);
const frames = (session: Session): Frame[] => {
  session.flushToLog();
  return session.log.since(0).frames.map((frame) => JSON.parse(frame.data as string) as Frame);
};
const isEnd = (frame: Frame) => frame.msg_type === 'RESPONSE' && frame.payload.text_stream_seq === -1;
/** [msg_type, request_id] of each frame. */
const brief = (list: Frame[]) => list.map((f) => [f.msg_type, f.payload.request_id ?? f.payload.interrupt_request_id]);

describe('InterruptService', () => {
  let llm: ScriptedLlm;
  let registry: RequestRegistry;
  let runner: RequestRunner;
  let interrupts: InterruptService;
  let a: Session;

  /** Starts a request and waits for its model call to be streaming. */
  const running = async (session: Session, requestId: string) => {
    const before = llm.calls.length;
    runner.start(session, { requestId, prompt: 'hi' }, { transport: 'ws' });
    const call = await until(() => llm.calls[before], `the model call of ${requestId}`);
    call.subscriber.next({ type: 'text', text: 'Once ' });
    session.flushToLog();
    return call;
  };
  const interrupt = (session: Session, payload: Partial<ParsedClientPayloads['INTERRUPT']>): void => {
    const pending = interrupts.interrupt(session, { reason: 'USER_NEW_INPUT', ...payload }, performance.now());
    // Everything it stops runs here: acknowledged at once, with nothing to wait for.
    expect(pending).toBeUndefined();
  };
  /** The frames a session sent from `seq` on, once `count` end frames are among them. */
  const after = async (session: Session, seq: number, count: number) =>
    until(() => {
      const later = frames(session).filter((f) => f.seq > seq);
      return later.filter(isEnd).length >= count ? later : undefined;
    }, `${count} end frames`);

  beforeEach(() => {
    const [metrics, logger] = [new MetricsService(), silentLogger()];
    llm = new ScriptedLlm();
    registry = new RequestRegistry(metrics);
    const conversations = new ConversationService(new InMemoryConversationStore(), config);
    const tools = new ToolRunner(new ToolRegistry(new DiscoveryService(new ModulesContainer()), config), config);
    const stream = new ReplyStream(llm, new SpeechService(null, 'off in this spec', config.tts), tools, conversations, config);
    const spoken = new SpokenReplies();
    runner = new RequestRunner(registry, stream, new RequestEndings(conversations, metrics, llm, config), spoken, config, logger);
    const lifecycle = new SessionLifecycle(new SessionRegistry(config, metrics, new NoMirror()), conversations, registry, config, logger);
    const redis = new RedisService(config, logger);
    const remote = new RemoteStops(redis, new ClusterBus(redis, config, logger), new ClusterDirectory(redis, logger), logger);
    interrupts = new InterruptService(new StopService(registry, remote, lifecycle, logger), registry, spoken, metrics, logger);
    a = newSession('sess_a');
  });

  afterEach(() => registry.cancel({}, { reason: 'TEST_OVER', source: 'operator', receivedAt: performance.now() }));

  it('request scope: stops that request, acknowledges it first, then its one end frame; the others run on', async () => {
    const r1 = await running(a, 'r1');
    const r2 = await running(a, 'r2');
    const seq = a.log.lastSeq;
    interrupt(a, { interrupt_request_id: 'r1' });
    expect(r1.tornDown).toBe(true);
    expect(r2.tornDown).toBe(false);

    const later = await after(a, seq, 1);
    expect(brief(later)).toEqual([
      ['INTERRUPT_ACK', 'r1'],
      ['RESPONSE', 'r1'],
    ]);
    expect(later[0]?.payload).toEqual({
      interrupt_request_id: 'r1',
      scope: 'request',
      interrupted_request_ids: ['r1'],
      status: 'SUCCESS',
      reason: 'USER_NEW_INPUT',
      upstream_closed_ms: { r1: expect.any(Number) as number },
    });
    expect(later[1]?.payload).toMatchObject({ interrupted: true, interrupt_reason: 'USER_NEW_INPUT' });
  });

  it('session scope (no id): stops every request of the session, and none of another session', async () => {
    const b = newSession('sess_b');
    const [r1, r2, other] = [await running(a, 'r1'), await running(a, 'r2'), await running(b, 'r1')];
    const seq = a.log.lastSeq;
    interrupt(a, { interrupt_request_id: null });
    expect([r1.tornDown, r2.tornDown, other.tornDown]).toEqual([true, true, false]);

    const later = await after(a, seq, 2);
    expect(brief(later)).toEqual([
      ['INTERRUPT_ACK', null],
      ['RESPONSE', 'r1'],
      ['RESPONSE', 'r2'],
    ]);
    expect(later[0]?.payload).toMatchObject({ scope: 'session', interrupted_request_ids: ['r1', 'r2'], status: 'SUCCESS' });
  });

  it('user scope: stops the key’s requests in its other sessions too, counting them apart', async () => {
    const b = newSession('sess_b');
    const c = newSession('sess_c', 'bob');
    const [own, mine, theirs] = [await running(a, 'r1'), await running(b, 'r9'), await running(c, 'r1')];
    const [seqA, seqB] = [a.log.lastSeq, b.log.lastSeq];
    interrupt(a, { scope: 'user' });
    expect([own.tornDown, mine.tornDown, theirs.tornDown]).toEqual([true, true, false]);

    const later = await after(a, seqA, 1);
    expect(later[0]?.payload).toMatchObject({ scope: 'user', interrupted_request_ids: ['r1'], stopped_elsewhere: 1, status: 'SUCCESS' });
    // The other session gets its request's end frame, and no ACK: it sent no INTERRUPT.
    expect(brief(await after(b, seqB, 1))).toEqual([['RESPONSE', 'r9']]);
  });

  it('answers NOT_FOUND for an unknown request, another session’s, or one already stopped; one end frame whatever', async () => {
    const b = newSession('sess_b');
    const theirs = await running(b, 'b1');
    await running(a, 'r1');
    const seq = a.log.lastSeq;
    interrupt(a, { interrupt_request_id: 'nope' });
    interrupt(a, { interrupt_request_id: 'b1' });
    interrupt(a, { interrupt_request_id: 'r1' });
    interrupt(a, { interrupt_request_id: 'r1' });
    expect(theirs.tornDown).toBe(false);

    await after(a, seq, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const acks = frames(a).filter((f) => f.msg_type === 'INTERRUPT_ACK');
    expect(acks.map((f) => [f.payload.interrupt_request_id, f.payload.status])).toEqual([
      ['nope', 'NOT_FOUND'],
      ['b1', 'NOT_FOUND'],
      ['r1', 'SUCCESS'],
      ['r1', 'NOT_FOUND'],
    ]);
    expect(acks[0]?.payload).toEqual({
      interrupt_request_id: 'nope',
      scope: 'request',
      interrupted_request_ids: [],
      status: 'NOT_FOUND',
      reason: 'USER_NEW_INPUT',
    });
    expect(frames(a).filter(isEnd)).toHaveLength(1);
  });

  it('refuses scope "request" without an id', () => {
    let code: string | undefined;
    try {
      interrupt(a, { scope: 'request' });
    } catch (error) {
      code = (error as GatewayError).code;
    }
    expect(code).toBe('INVALID_MESSAGE');
  });

  it('while a client tool runs: the ACK, then the tool cancelled, FUNCTION_CANCEL, then the end frame', async () => {
    const call = await running(a, 'r1');
    call.subscriber.next({ type: 'tool_call', index: 0, id: 'c1', name: 'get_weather', arguments: '{}' });
    call.subscriber.next({ type: 'finish', reason: 'tool_calls' });
    call.subscriber.complete();
    await until(() => frames(a).find((f) => f.msg_type === 'FUNCTION_CALL'), 'the FUNCTION_CALL');
    const seq = a.log.lastSeq;
    interrupt(a, { interrupt_request_id: 'r1' });

    const later = await after(a, seq, 1);
    expect(later.map((f) => [f.msg_type, f.payload.state ?? f.payload.call_id ?? f.payload.text_stream_seq])).toEqual([
      ['INTERRUPT_ACK', undefined],
      ['TOOL_STATUS', 'cancelled'],
      ['FUNCTION_CANCEL', 'c1'],
      ['RESPONSE', -1],
    ]);
    // Stopped between model calls: no model stream was open to close.
    expect(later[0]?.payload).not.toHaveProperty('upstream_closed_ms');
    expect(a.functionResult({ request_id: 'r1', call_id: 'c1', result: 'late' })).toBe(false);
  });
});
