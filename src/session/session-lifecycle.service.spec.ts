import type { ServerMsgType, ServerPayloads } from '@agent-gateway/protocol';
import type { WebSocket } from 'ws';
import { silentLogger } from '../../test/support/silent-logger.js';
import type { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { Session, SessionPrefs, Sink } from './session.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
import { SessionLogMirror } from './session-log-mirror.js';
import { SessionRegistry } from './session-registry.service.js';

const GRACE_MS = 100;
const config = loadConfig({ RESUME_GRACE_MS: String(GRACE_MS), WS_SEND_HIGH_WATER_BYTES: '1024', WS_SEND_HARD_LIMIT_BYTES: '4096' });
const prefs: SessionPrefs = { platform: 'test', requireTts: false, audioTransport: 'json', clientTools: new Map(), durable: false };
const alice = { userId: 'alice', admin: false };

class NoMirror extends SessionLogMirror {
  readonly enabled = false;
  append(): void {
    // Nothing is mirrored without Redis.
  }
}

/** A socket of a session: everything written to it, direct answers and numbered frames, in order. */
class FakeSink implements Sink {
  readonly wire: string[] = [];
  failed?: GatewayError;
  readonly socket: WebSocket;

  constructor(bufferedAmount = 0) {
    const wire = this.wire;
    this.socket = {
      OPEN: 1,
      readyState: 1,
      bufferedAmount,
      send: (data: string, cb?: () => void) => {
        wire.push(data);
        cb?.();
      },
    } as unknown as WebSocket;
  }
  attach(): void {
    // The gateway's Connection remembers its session; nothing to do here.
  }
  sendDirect<T extends ServerMsgType>(type: T, payload: ServerPayloads[T]): void {
    this.wire.push(JSON.stringify({ msg_type: type, payload }));
  }
  fail(error: GatewayError): void {
    this.failed = error;
  }
  /** What it was sent, as [msg_type, seq] (direct answers have no seq). */
  seen(): [string, number | undefined][] {
    return this.wire.map((data) => {
      const { msg_type: type, seq } = JSON.parse(data) as { msg_type: string; seq?: number };
      return [type, seq];
    });
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the grace period: a grace timer armed before this wait has fired by its end (timers fire in order of expiry). */
const pastGrace = () => wait(GRACE_MS * 3);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as GatewayError).code;
  }
  return undefined;
};

describe('SessionLifecycle', () => {
  let sessions: SessionRegistry;
  let registry: RequestRegistry;
  let lifecycle: SessionLifecycle;
  let events: string[];

  const send = (session: Session, text: string) =>
    session.send('ERROR', { code: 'TTS_ERROR', message: text, request_id: 'r1' }, { lane: 'text' });
  const ended = (session: Session) => `ended:${session.id}:RESUME_GRACE_EXPIRED`;
  const endedEventually = async (session: Session) => {
    for (const deadline = Date.now() + 5000; !events.includes(ended(session));) {
      if (Date.now() > deadline) throw new Error('the session did not expire');
      await wait(10);
    }
  };

  beforeEach(() => {
    const metrics = new MetricsService();
    registry = new RequestRegistry(metrics);
    sessions = new SessionRegistry(config, metrics, new NoMirror());
    lifecycle = new SessionLifecycle(
      sessions,
      new ConversationService(new InMemoryConversationStore(), config),
      registry,
      config,
      silentLogger(),
    );
    const log: string[] = [];
    events = log;
    lifecycle.lastSocketClosed$.subscribe(({ session, reason }) => log.push(`last-socket-closed:${session.id}:${reason}`));
    lifecycle.ended$.subscribe(({ session, reason }) => log.push(`ended:${session.id}:${reason}`));
  });

  // No grace timer outlives its test.
  afterEach(() => sessions.all().forEach((session) => lifecycle.end(session, 'TEST_OVER')));

  it('waits for a RESUME only once the last socket has closed, then ends the session after the grace period', async () => {
    const first = new FakeSink();
    const session = lifecycle.create(alice, prefs, first);
    const second = new FakeSink();
    lifecycle.attachResumed(second, session, lifecycle.resumable(session.id, alice, 0).replay);

    lifecycle.detached(session, first, 'CLIENT_CLOSED');
    lifecycle.detached(session, first, 'CLIENT_CLOSED');
    await pastGrace();
    expect(events).toEqual([]);

    lifecycle.detached(session, second, 'CLIENT_CLOSED');
    expect(events).toEqual([`last-socket-closed:${session.id}:CLIENT_CLOSED`]);
    expect(sessions.find(session.id)).toBe(session);
    await endedEventually(session);
    expect(sessions.find(session.id)).toBeUndefined();
  });

  it('keeps a session resumed within the grace period: the ACK, the frames after last_seq, then the live stream', async () => {
    const first = new FakeSink();
    const session = lifecycle.create(alice, prefs, first);
    registry.register('r1', { sessionId: session.id, userId: alice.userId, transport: 'ws' }, 4);
    for (const text of ['a', 'b', 'c']) send(session, text);
    session.flushToLog();
    lifecycle.detached(session, first, 'CLIENT_CLOSED');

    const second = new FakeSink();
    const { replay } = lifecycle.resumable(session.id, alice, 1);
    lifecycle.attachResumed(second, session, replay);
    send(session, 'd');
    session.flushToLog();
    expect(JSON.parse(second.wire[0])).toMatchObject({
      msg_type: 'RESUME_ACK',
      payload: { session_id: session.id, last_seq: 3, replayed: 2, gap: false, active_request_ids: ['r1'] },
    });
    expect(second.seen().slice(1)).toEqual([
      ['ERROR', 2],
      ['ERROR', 3],
      ['ERROR', 4],
    ]);

    await pastGrace();
    expect(events).toEqual([`last-socket-closed:${session.id}:CLIENT_CLOSED`]);
    expect(sessions.find(session.id)).toBe(session);
  });

  it('refuses a RESUME by another key or from ahead of the log, and such a refusal does not keep the session', async () => {
    const sink = new FakeSink();
    const session = lifecycle.create(alice, prefs, sink);
    lifecycle.detached(session, sink, 'CLIENT_CLOSED');
    expect(codeOf(() => lifecycle.resumable(session.id, { userId: 'mallory', admin: false }, 0))).toBe('SESSION_NOT_FOUND');
    expect(codeOf(() => lifecycle.resumable(session.id, alice, 1))).toBe('LAST_SEQ_AHEAD');
    await endedEventually(session);
  });

  it('does not let a borrowed session expire until its last borrower gives it back (each once)', async () => {
    const session = lifecycle.create(alice, prefs);
    lifecycle.awaitResume(session);
    const giveBackA = lifecycle.borrow(session);
    const giveBackB = lifecycle.borrow(session);
    giveBackA();
    giveBackA();
    await pastGrace();
    expect(events).toEqual([]);

    giveBackB();
    await endedEventually(session);
  });

  it('drops a socket that falls too far behind, telling it why; the session goes on with the others', () => {
    const slow = new FakeSink(2000);
    const session = lifecycle.create(alice, prefs, slow);
    const fast = new FakeSink();
    lifecycle.attachResumed(fast, session, lifecycle.resumable(session.id, alice, 0).replay);

    send(session, 'x'.repeat(3000));
    expect(slow.failed?.code).toBe('SLOW_CONSUMER');
    expect(session.connectionCount).toBe(1);
    expect(events).toEqual([]);
    session.flushToLog();
    expect(fast.seen()).toEqual([
      ['RESUME_ACK', undefined],
      ['ERROR', 1],
    ]);

    lifecycle.detached(session, fast, 'CLIENT_CLOSED');
    expect(events).toEqual([`last-socket-closed:${session.id}:CLIENT_CLOSED`]);
  });

  it('leaves a session that moved to another instance to that instance', async () => {
    const sink = new FakeSink();
    const session = lifecycle.create(alice, prefs, sink);
    session.forwardTo(() => undefined);
    lifecycle.detached(session, sink, 'SESSION_MOVED');
    await pastGrace();
    expect(events).toEqual([]);
    expect(sessions.find(session.id)).toBe(session);
  });

  it('ends a session once, at once, when asked, even with its grace timer running', async () => {
    const sink = new FakeSink();
    const session = lifecycle.create(alice, prefs, sink);
    lifecycle.detached(session, sink, 'CLIENT_CLOSED');
    lifecycle.end(session, 'RESET');
    expect(sessions.find(session.id)).toBeUndefined();
    await pastGrace();
    expect(events).toEqual([`last-socket-closed:${session.id}:CLIENT_CLOSED`, `ended:${session.id}:RESET`]);
  });
});
