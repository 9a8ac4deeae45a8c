import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { Observable, type Subscriber } from 'rxjs';
import type { WebSocket } from 'ws';
import { silentLogger } from '../../test/support/silent-logger.js';
import { ReplyStream } from '../agent/reply-stream.service.js';
import { RequestEndings } from '../agent/request-endings.service.js';
import { RequestRunner } from '../agent/request-runner.service.js';
import { SpokenReplies } from '../agent/spoken-replies.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import type { TaskRecord } from '../cluster/directory-records.js';
import { RemoteStops } from '../cluster/remote-stops.service.js';
import type { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import type { LlmEvent, LlmRequest } from '../llm/llm-events.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisService } from '../redis/redis.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { SessionPrefs, Sink } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionLogMirror } from '../session/session-log-mirror.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { StopService } from '../stops/stop.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { SpeechService } from '../tts/speech.service.js';
import { TaskRecords } from './task-records.js';
import { TaskService } from './task.service.js';

class ModelCall {
  tornDown = false;
  constructor(
    readonly request: LlmRequest,
    private readonly subscriber: Subscriber<LlmEvent>,
  ) {}
  reply(text: string): void {
    this.subscriber.next({ type: 'text', text });
    this.subscriber.next({ type: 'finish', reason: 'stop' });
    this.subscriber.complete();
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

class NoMirror extends SessionLogMirror {
  readonly enabled = false;
  append(): void {
    // Nothing is mirrored without Redis.
  }
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const GRACE_MS = 100;
const config = loadConfig({ RESUME_GRACE_MS: String(GRACE_MS), HTTP_MAX_CONCURRENT_PER_KEY: '2', MAX_REQUEST_TEXT_CHARS: '40' });
const alice = { userId: 'alice', admin: false };
const bob = { userId: 'bob', admin: false };
const wsPrefs: SessionPrefs = { platform: 'web', requireTts: false, audioTransport: 'json', clientTools: new Map(), durable: false };
const socketSink = (): Sink => ({
  socket: { OPEN: 1, readyState: 1, bufferedAmount: 0, send: () => undefined } as unknown as WebSocket,
  attach: () => undefined,
  sendDirect: () => undefined,
  fail: () => undefined,
});
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as GatewayError).code;
  }
  return undefined;
};

describe('TaskService', () => {
  let llm: ScriptedLlm;
  let registry: RequestRegistry;
  let sessions: SessionRegistry;
  let lifecycle: SessionLifecycle;
  let tasks: TaskService;
  let ended: string[];

  const ask = (text = 'tell me', sessionId?: string) => ({ text, requireTts: false, ...(sessionId !== undefined && { sessionId }) });
  const endOf = (record: TaskRecord) => until(() => record.state !== 'running', `the end of ${record.task_id}`);
  const expired = (sessionId: string) => until(() => ended.includes(`${sessionId}:RESUME_GRACE_EXPIRED`), `${sessionId} to expire`);

  beforeEach(() => {
    const metrics = new MetricsService();
    llm = new ScriptedLlm();
    registry = new RequestRegistry(metrics);
    const conversations = new ConversationService(new InMemoryConversationStore(), config);
    const tools = new ToolRunner(new ToolRegistry(new DiscoveryService(new ModulesContainer()), config), config);
    const stream = new ReplyStream(llm, new SpeechService(null, 'off in this spec', config.tts), tools, conversations, config);
    const endings = new RequestEndings(conversations, metrics, llm, config);
    const runner = new RequestRunner(registry, stream, endings, new SpokenReplies(), config, silentLogger());
    sessions = new SessionRegistry(config, metrics, new NoMirror());
    lifecycle = new SessionLifecycle(sessions, conversations, registry, config, silentLogger());
    // No REDIS_URL: the records live here only.
    const redis = new RedisService(config, silentLogger());
    const directory = new ClusterDirectory(redis, silentLogger());
    const stops = new StopService(
      registry,
      new RemoteStops(redis, new ClusterBus(redis, config, silentLogger()), directory, silentLogger()),
      lifecycle,
      silentLogger(),
    );
    stops.onModuleInit();
    tasks = new TaskService(lifecycle, sessions, runner, stops, new KeyConcurrency(config), new TaskRecords(redis, directory, config));
    const log: string[] = [];
    ended = log;
    lifecycle.ended$.subscribe(({ session, reason }) => log.push(`${session.id}:${reason}`));
  });

  afterEach(() => {
    registry.cancel({}, { reason: 'TEST_OVER', source: 'operator', receivedAt: performance.now() });
    sessions.all().forEach((session) => lifecycle.end(session, 'TEST_OVER'));
  });

  it('runs in a durable session of its own, is finished by its end frame, and its session then expires', async () => {
    const record = tasks.start(alice, ask());
    expect(record).toMatchObject({ state: 'running', user_id: 'alice', end: null, ended_at: null });
    const session = sessions.find(record.session_id)!;
    expect(session.prefs).toMatchObject({ platform: 'rest', durable: true });
    expect(registry.find(session.id, record.task_id)).toMatchObject({ durable: true, owner: { transport: 'task' } });

    (await until(() => llm.calls[0], 'the model call')).reply('Done.');
    await endOf(record);
    expect(record).toMatchObject({ state: 'finished', end: { finish_reason: 'stop', interrupted: false } });
    expect(await tasks.get(record.task_id, alice)).toBe(record);
    await expect(tasks.get(record.task_id, bob)).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    await expired(session.id);
  });

  it('stops through the StopService: the model stream is torn down and the task ends interrupted, once', async () => {
    const record = tasks.start(alice, ask());
    const call = await until(() => llm.calls[0], 'the model call');
    expect(await tasks.stop(record)).toBe(true);
    expect(call.tornDown).toBe(true);
    await endOf(record);
    expect(record).toMatchObject({ state: 'interrupted', end: { interrupted: true, interrupt_reason: 'STOPPED' } });
    expect(await tasks.stop(record)).toBe(false);
  });

  it('keeps a session it borrows from expiring while it runs, and gives it back at its end', async () => {
    const session = lifecycle.create(alice, wsPrefs);
    lifecycle.awaitResume(session);
    const record = tasks.start(alice, ask('go on', session.id));
    expect(record.session_id).toBe(session.id);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 3));
    expect(ended).toEqual([]);

    (await until(() => llm.calls[0], 'the model call')).reply('Done.');
    await endOf(record);
    await expired(session.id);
    expect(codeOf(() => tasks.start(bob, ask('mine?', lifecycle.create(alice, wsPrefs).id)))).toBe('SESSION_NOT_FOUND');
  });

  it('never lets a socket closing stop a task', async () => {
    const sink = socketSink();
    const session = lifecycle.create(alice, wsPrefs, sink);
    const record = tasks.start(alice, ask('go on', session.id));
    const call = await until(() => llm.calls[0], 'the model call');
    lifecycle.detached(session, sink, 'CLIENT_CLOSED');
    expect(call.tornDown).toBe(false);
    expect(record.state).toBe('running');
  });

  it('counts against the key’s HTTP limit, and a refused task gives its slot back and leaves no session', async () => {
    expect(codeOf(() => tasks.start(alice, ask('x'.repeat(41))))).toBe('INVALID_MESSAGE');
    // Twice: had either refusal kept bob's slot, he would have none left below.
    for (let attempt = 0; attempt < 2; attempt++)
      expect(codeOf(() => tasks.start(bob, ask('mine?', 'sess_nope')))).toBe('SESSION_NOT_FOUND');
    expect(sessions.all()).toEqual([]);

    const first = tasks.start(alice, ask());
    tasks.start(alice, ask());
    expect(codeOf(() => tasks.start(alice, ask()))).toBe('CONCURRENCY_LIMITED');
    expect(codeOf(() => tasks.start(bob, ask()))).toBeUndefined();
    expect(sessions.all()).toHaveLength(3);

    (await until(() => llm.calls[0], 'the model call')).reply('Done.');
    await endOf(first);
    expect(codeOf(() => tasks.start(alice, ask()))).toBeUndefined();
  });
});
