import type { EndPayload } from '@agent-gateway/protocol';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { Observable, type Subscriber } from 'rxjs';
import { silentLogger } from '../../test/support/silent-logger.js';
import { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import type { LlmEvent, LlmRequest } from '../llm/llm-events.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { Session, type SessionPrefs } from '../session/session.js';
import { cancellation } from '../stops/stop.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { SpeechService } from '../tts/speech.service.js';
import { ReplyStream } from './reply-stream.service.js';
import { RequestEndings } from './request-endings.service.js';
import { type RequestInput, RequestRunner } from './request-runner.service.js';
import { SpokenReplies } from './spoken-replies.js';

/** One call to the fake model: the test streams its events, and sees whether it was torn down before it finished. */
class ModelCall {
  tornDown = false;
  private finished = false;
  constructor(
    readonly request: LlmRequest,
    private readonly subscriber: Subscriber<LlmEvent>,
  ) {}
  text(...parts: string[]): void {
    for (const text of parts) this.subscriber.next({ type: 'text', text });
  }
  finish(reason = 'stop'): void {
    this.subscriber.next({ type: 'finish', reason });
    this.finished = true;
    this.subscriber.complete();
  }
  fail(error: Error): void {
    this.finished = true;
    this.subscriber.error(error);
  }
  /** Unsubscribed while still streaming: a real provider would have aborted its HTTP call. */
  get aborted(): boolean {
    return this.tornDown && !this.finished;
  }
}

class ScriptedLlm extends LlmProvider {
  readonly descriptor = { provider: 'scripted', model: 'scripted', simulated: false };
  readonly calls: ModelCall[] = [];
  stream(request: LlmRequest): Observable<LlmEvent> {
    return new Observable<LlmEvent>((subscriber) => {
      const call = new ModelCall(request, subscriber);
      this.calls.push(call);
      return () => (call.tornDown = true);
    });
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

const config = loadConfig({ MAX_CONCURRENT_REQUESTS_PER_SESSION: '2', MAX_REQUEST_TEXT_CHARS: '40' });
const prefs = (durable = false): SessionPrefs => ({
  platform: 'test',
  requireTts: false,
  audioTransport: 'json',
  clientTools: new Map(),
  durable,
});
const limits = { outbound: { highWaterBytes: 64 * 1024, hardLimitBytes: 8 * 1024 * 1024 }, log: config.eventLog };
const ask = (id: string, text = 'hello', durable?: boolean): RequestInput => ({
  requestId: id,
  prompt: text,
  ...(durable !== undefined && { durable }),
});
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as GatewayError).code;
  }
  return undefined;
};

describe('RequestRunner', () => {
  let llm: ScriptedLlm;
  let registry: RequestRegistry;
  let conversations: ConversationService;
  let runner: RequestRunner;
  let session: Session;

  /** Numbered frames the session sent, as clients read them. */
  const frames = (): Frame[] => {
    session.flushToLog();
    return session.log.since(0).frames.map((frame) => JSON.parse(frame.data as string) as Frame);
  };
  const start = (payload: RequestInput, on = session): Promise<EndPayload> =>
    new Promise((resolve) => runner.start(on, payload, { transport: 'ws', onEnd: resolve }));

  beforeEach(() => {
    const metrics = new MetricsService();
    llm = new ScriptedLlm();
    registry = new RequestRegistry(metrics);
    conversations = new ConversationService(new InMemoryConversationStore(), config);
    const tools = new ToolRunner(new ToolRegistry(new DiscoveryService(new ModulesContainer()), config), config);
    const stream = new ReplyStream(llm, new SpeechService(null, 'off in this spec', config.tts), tools, conversations, config);
    const endings = new RequestEndings(conversations, metrics, llm, config);
    runner = new RequestRunner(registry, stream, endings, new SpokenReplies(), config, silentLogger());
    session = new Session('sess_a', { userId: 'u1', admin: false }, prefs(), limits, () => undefined);
  });

  it('sends the model’s text as numbered deltas, then one end frame once the turn is in the history', async () => {
    const ended = start(ask('r1', 'tell me'));
    const call = await until(() => llm.calls[0], 'the model call');
    expect(call.request.messages.at(-1)).toEqual({ role: 'user', content: 'tell me' });
    call.text('Once ', 'upon');
    call.finish('stop');
    const end = await ended;

    expect(end).toMatchObject({ request_id: 'r1', interrupted: false, finish_reason: 'stop', usage: { completion_tokens: 2 } });
    expect(frames().map((f) => [f.seq, f.msg_type, f.payload.text_stream_seq, f.payload.content])).toEqual([
      [1, 'RESPONSE', 0, { text: 'Once ' }],
      [2, 'RESPONSE', 1, { text: 'upon' }],
      [3, 'RESPONSE', -1, {}],
    ]);
    expect(registry.find(session.id, 'r1')).toBeUndefined();
    const history = await conversations.read(session.id);
    expect(history?.messages.map((m) => m.message)).toEqual([
      { role: 'user', content: 'tell me' },
      { role: 'assistant', content: 'Once upon' },
    ]);
  });

  it('on a cancel, tears the model stream down at once and ends with one interrupted end frame', async () => {
    const ended = start(ask('r1'));
    const call = await until(() => llm.calls[0], 'the model call');
    call.text('Once ');
    session.flushToLog();
    // Still queued when the cancel comes: dropped, never delivered, so not part of the reply either.
    call.text('upon');

    const [request] = registry.cancel({ sessionId: session.id, requestId: 'r1' }, cancellation('USER_NEW_INPUT', 'client'));
    expect(call.aborted).toBe(true);
    expect(request.upstreamClosedMs).toEqual(expect.any(Number));
    expect(registry.find(session.id, 'r1')).toBeUndefined();
    call.text(' a time');

    const end = await ended;
    expect(end).toMatchObject({ interrupted: true, interrupt_reason: 'USER_NEW_INPUT' });
    expect(end).not.toHaveProperty('finish_reason');
    const sent = frames();
    expect(sent.map((f) => f.payload.content)).toEqual([{ text: 'Once ' }, {}]);
    expect(sent.filter((f) => f.payload.text_stream_seq === -1)).toHaveLength(1);
    const history = await conversations.read(session.id);
    expect(history?.messages.at(-1)).toMatchObject({
      message: { role: 'assistant', content: 'Once ' },
      interrupted: { reason: 'USER_NEW_INPUT', kept: 'delivered' },
    });
  });

  it('never calls the model for a request cancelled before its history was read', async () => {
    const ended = start(ask('r1'));
    registry.cancel({ sessionId: session.id }, cancellation('STOP', 'client'));
    expect((await ended).interrupted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(llm.calls).toEqual([]);
  });

  it('ends a request whose provider failed with an ERROR, then a failed end frame', async () => {
    const ended = start(ask('r1'));
    const call = await until(() => llm.calls[0], 'the model call');
    call.text('Half');
    call.fail(new UpstreamError('UPSTREAM_DISCONNECTED', 'socket hang up'));
    const end = await ended;

    expect(end).toMatchObject({ interrupted: false, error: { code: 'UPSTREAM_DISCONNECTED' } });
    expect(frames().map((f) => [f.msg_type, f.payload.code ?? f.payload.text_stream_seq])).toEqual([
      ['RESPONSE', 0],
      ['ERROR', 'UPSTREAM_DISCONNECTED'],
      ['RESPONSE', -1],
    ]);
    expect(registry.size).toBe(0);
    const history = await conversations.read(session.id);
    expect(history?.messages.at(-1)).toMatchObject({ message: { content: 'Half' }, failed: true });
  });

  it('refuses a text too long, a duplicate id and one request too many, before anything runs', async () => {
    expect(codeOf(() => runner.start(session, ask('long', 'x'.repeat(41)), { transport: 'ws' }))).toBe('INVALID_MESSAGE');
    void start(ask('r1'));
    expect(codeOf(() => runner.start(session, ask('r1'), { transport: 'ws' }))).toBe('DUPLICATE_REQUEST');
    void start(ask('r2'));
    expect(codeOf(() => runner.start(session, ask('r3'), { transport: 'ws' }))).toBe('TOO_MANY_REQUESTS');
    // Another session has slots of its own.
    const other = new Session('sess_b', { userId: 'u1', admin: false }, prefs(), limits, () => undefined);
    void start(ask('r3'), other);
    await until(() => llm.calls[2], 'three model calls');
    expect(registry.list().map((r) => `${r.owner.sessionId}/${r.id}`)).toEqual(['sess_a/r1', 'sess_a/r2', 'sess_b/r3']);
    registry.cancel({}, cancellation('END', 'operator'));
  });

  it('takes durability from the session unless the request says', () => {
    const durableSession = new Session('sess_d', { userId: 'u1', admin: false }, prefs(true), limits, () => undefined);
    runner.start(durableSession, ask('inherits'), { transport: 'ws' });
    runner.start(durableSession, ask('overrides', 'hi', false), { transport: 'ws' });
    expect(registry.find('sess_d', 'inherits')?.durable).toBe(true);
    expect(registry.find('sess_d', 'overrides')?.durable).toBe(false);
    registry.cancel({}, cancellation('END', 'operator'));
  });
});
