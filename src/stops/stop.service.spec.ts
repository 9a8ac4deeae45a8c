import type { WebSocket } from 'ws';
import { silentLogger } from '../../test/support/silent-logger.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { RemoteStops } from '../cluster/remote-stops.service.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisService } from '../redis/redis.service.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { SessionPrefs, Sink } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionLogMirror } from '../session/session-log-mirror.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { cancellation, StopService } from './stop.service.js';

// No REDIS_URL: one instance, every stop is local.
const config = loadConfig({});
const prefs: SessionPrefs = { platform: 'test', requireTts: false, audioTransport: 'json', clientTools: new Map(), durable: false };
const alice = { userId: 'alice', admin: false };

class NoMirror extends SessionLogMirror {
  readonly enabled = false;
  append(): void {
    // Nothing is mirrored without Redis.
  }
}

const socketSink = (): Sink => ({
  socket: { OPEN: 1, readyState: 1, bufferedAmount: 0, send: () => undefined } as unknown as WebSocket,
  attach: () => undefined,
  sendDirect: () => undefined,
  fail: () => undefined,
});
/** `session/request` of each request. */
const names = (requests: ActiveRequest[]) => requests.map((request) => `${request.owner.sessionId}/${request.id}`);

describe('StopService', () => {
  let registry: RequestRegistry;
  let sessions: SessionRegistry;
  let lifecycle: SessionLifecycle;
  let stops: StopService;

  const start = (sessionId: string, requestId: string, options: { userId?: string; durable?: boolean } = {}) =>
    registry.register(requestId, { sessionId, userId: options.userId ?? 'alice', transport: 'ws' }, 8, options.durable);
  /** The requests still running, by name. */
  const running = () => names(registry.list().filter((request) => request.cancellation === undefined));

  beforeEach(() => {
    const metrics = new MetricsService();
    registry = new RequestRegistry(metrics);
    sessions = new SessionRegistry(config, metrics, new NoMirror());
    const conversations = new ConversationService(new InMemoryConversationStore(), config);
    lifecycle = new SessionLifecycle(sessions, conversations, registry, config, silentLogger());
    const redis = new RedisService(config, silentLogger());
    const remote = new RemoteStops(
      redis,
      new ClusterBus(redis, config, silentLogger()),
      new ClusterDirectory(redis, silentLogger()),
      silentLogger(),
    );
    stops = new StopService(registry, remote, lifecycle, silentLogger());
    stops.onModuleInit();
  });

  afterEach(() => sessions.all().forEach((session) => lifecycle.end(session, 'TEST_OVER')));

  it('request: stops that request of that session only, once', () => {
    start('A', 'r1');
    start('A', 'r2');
    start('B', 'r1');
    const stop = cancellation('USER_NEW_INPUT', 'client');
    const outcome = stops.request('A', 'r1', stop);
    expect(names(outcome.here)).toEqual(['A/r1']);
    expect(outcome.elsewhere).toBeUndefined();
    expect(outcome.here[0]?.cancellation).toBe(stop);
    expect(running()).toEqual(['A/r2', 'B/r1']);

    expect(stops.request('A', 'r1', cancellation('AGAIN', 'client')).here).toEqual([]);
    expect(outcome.here[0]?.cancellation?.reason).toBe('USER_NEW_INPUT');
    expect(stops.request('A', 'unknown', stop).here).toEqual([]);
  });

  it('session: stops every request of the session, or only those that are not durable', () => {
    start('A', 'plain');
    start('A', 'kept', { durable: true });
    start('B', 'other');
    expect(names(stops.session('A', cancellation('CLIENT_CLOSED', 'disconnect'), { onlyNonDurable: true }).here)).toEqual(['A/plain']);
    expect(running()).toEqual(['A/kept', 'B/other']);

    const outcome = stops.session('A', cancellation('STOP', 'client'));
    expect(names(outcome.here)).toEqual(['A/kept']);
    expect(outcome.elsewhere).toBeUndefined();
    expect(running()).toEqual(['B/other']);
  });

  it('user: stops everything of one key, in every session and transport, and nothing of another key', () => {
    start('A', 'r1');
    start('B', 'r1', { durable: true });
    registry.register('task_1', { sessionId: 'T', userId: 'alice', transport: 'task' }, 8, true);
    start('C', 'r1', { userId: 'bob' });
    const outcome = stops.user('alice', cancellation('STOP_ALL', 'client'));
    expect(names(outcome.here)).toEqual(['A/r1', 'B/r1', 'T/task_1']);
    expect(outcome.elsewhere).toBeUndefined();
    expect(running()).toEqual(['C/r1']);
  });

  it('everything: stops what the filter picks, everywhere on this instance', () => {
    start('A', 'plain');
    start('A', 'kept', { durable: true });
    start('B', 'plain', { userId: 'bob' });
    const stopped = stops.everything(cancellation('SERVER_SHUTDOWN', 'shutdown'), (request) => !request.durable);
    expect(names(stopped)).toEqual(['A/plain', 'B/plain']);
    expect(stopped.every((request) => request.cancellation?.source === 'shutdown')).toBe(true);
    expect(names(stops.everything(cancellation('SERVER_SHUTDOWN', 'shutdown')))).toEqual(['A/kept']);
    expect(running()).toEqual([]);
  });

  it('one: stops a request by itself, and says when it was stopping already', () => {
    const request = start('A', 'r1');
    expect(stops.one(request, cancellation('CLIENT_CLOSED_REQUEST', 'disconnect'))).toBe(true);
    expect(stops.one(request, cancellation('OPERATOR', 'operator'))).toBe(false);
    expect(request.cancellation?.reason).toBe('CLIENT_CLOSED_REQUEST');
  });

  it('stops a session’s non-durable requests when its last socket closes, and the rest when it ends', () => {
    const sink = socketSink();
    const session = lifecycle.create(alice, prefs, sink);
    const other = lifecycle.create(alice, prefs, socketSink());
    const plain = start(session.id, 'plain');
    const kept = start(session.id, 'kept', { durable: true });
    const elsewhere = start(other.id, 'plain');

    lifecycle.detached(session, sink, 'CLIENT_CLOSED');
    expect(plain.cancellation).toMatchObject({ reason: 'CLIENT_CLOSED', source: 'disconnect' });
    expect(kept.cancellation).toBeUndefined();

    lifecycle.end(session, 'RESUME_GRACE_EXPIRED');
    expect(kept.cancellation).toMatchObject({ reason: 'RESUME_GRACE_EXPIRED', source: 'expired' });
    expect(elsewhere.cancellation).toBeUndefined();
  });
});
