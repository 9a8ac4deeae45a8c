import type { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { LoggedFrame } from './event-log.js';
import type { Session, SessionPrefs } from './session.js';
import { SessionLogMirror } from './session-log-mirror.js';
import { SessionRegistry } from './session-registry.service.js';

const prefs: SessionPrefs = { platform: 'test', requireTts: false, audioTransport: 'json', clientTools: new Map(), durable: false };
const alice = { userId: 'alice', admin: false };
const bob = { userId: 'bob', admin: false };
const onSlow = () => undefined;

/** The shared log, as the cluster's Redis log would get it. */
class RecordingMirror extends SessionLogMirror {
  readonly appended: { sessionId: string; seq: number }[] = [];
  constructor(readonly enabled: boolean) {
    super();
  }
  append(sessionId: string, frame: LoggedFrame): void {
    this.appended.push({ sessionId, seq: frame.seq });
  }
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as GatewayError).code;
  }
  return undefined;
};
const sendOne = (session: Session) => {
  session.send('ERROR', { code: 'TTS_ERROR', message: 'm' }, { lane: 'text' });
  session.flushToLog();
};

describe('SessionRegistry', () => {
  let mirror: RecordingMirror;
  const registry = (env: Record<string, string> = {}, mirrored = false) => {
    mirror = new RecordingMirror(mirrored);
    return new SessionRegistry(loadConfig(env), new MetricsService(), mirror);
  };

  it('refuses a session past MAX_SESSIONS with SERVER_BUSY, and has room again once one ends', () => {
    const sessions = registry({ MAX_SESSIONS: '2' });
    const first = sessions.create(alice, prefs, onSlow);
    sessions.create(bob, prefs, onSlow);
    expect(codeOf(() => sessions.create({ userId: 'carol', admin: false }, prefs, onSlow))).toBe('SERVER_BUSY');
    expect(codeOf(() => sessions.adopt('sess_moved', alice, prefs, onSlow, 5))).toBe('SERVER_BUSY');
    expect(sessions.all()).toHaveLength(2);

    sessions.end(first);
    expect(codeOf(() => sessions.create({ userId: 'carol', admin: false }, prefs, onSlow))).toBeUndefined();
  });

  it('refuses a key’s session past MAX_SESSIONS_PER_KEY with SESSION_LIMITED, other keys not', () => {
    const sessions = registry({ MAX_SESSIONS_PER_KEY: '2' });
    const [a1, a2] = [sessions.create(alice, prefs, onSlow), sessions.create(alice, prefs, onSlow)];
    expect(codeOf(() => sessions.create(alice, prefs, onSlow))).toBe('SESSION_LIMITED');
    // Sessions taken over from another instance count too.
    expect(codeOf(() => sessions.adopt('sess_moved', alice, prefs, onSlow, 0))).toBe('SESSION_LIMITED');
    expect(codeOf(() => sessions.create(bob, prefs, onSlow))).toBeUndefined();

    sessions.end(a1);
    // Ending one twice frees one slot, not two.
    sessions.end(a1);
    expect(codeOf(() => sessions.create(alice, prefs, onSlow))).toBeUndefined();
    expect(codeOf(() => sessions.create(alice, prefs, onSlow))).toBe('SESSION_LIMITED');
    expect(sessions.find(a2.id)).toBe(a2);
  });

  it('gives the sessions of one key one identity between them, until the last has ended', () => {
    const sessions = registry();
    const [a1, a2] = [sessions.create({ ...alice }, prefs, onSlow), sessions.create({ ...alice }, prefs, onSlow)];
    expect(a2.identity).toBe(a1.identity);
    // Other rights under the same userId (authentication never gives them) are not taken for the key's.
    expect(sessions.create({ ...alice, admin: true }, prefs, onSlow).identity.admin).toBe(true);
    for (const session of sessions.all()) sessions.end(session);
    const later = { ...alice };
    expect(sessions.create(later, prefs, onSlow).identity).toBe(later);
  });

  it('finds a session for the key that owns it only, and never one that moved away', () => {
    const sessions = registry();
    const mine = sessions.create(alice, prefs, onSlow);
    const theirs = sessions.create(bob, prefs, onSlow);
    expect(sessions.owned(mine.id, alice)).toBe(mine);
    expect(codeOf(() => sessions.owned(theirs.id, alice))).toBe('SESSION_NOT_FOUND');
    expect(codeOf(() => sessions.owned('sess_unknown', alice))).toBe('SESSION_NOT_FOUND');

    mine.forwardTo(() => undefined);
    expect(codeOf(() => sessions.owned(mine.id, alice))).toBe('SESSION_NOT_FOUND');
    // Still here for what it runs (find), not for clients (owned).
    expect(sessions.find(mine.id)).toBe(mine);
    sessions.end(theirs);
    expect(codeOf(() => sessions.owned(theirs.id, bob))).toBe('SESSION_NOT_FOUND');
  });

  it('adopts a session from another instance numbering on from its last frame, and reclaims one that comes back', () => {
    const sessions = registry({ MAX_SESSIONS_PER_KEY: '1' });
    const adopted = sessions.adopt('sess_x', alice, prefs, onSlow, 41);
    expect(adopted.id).toBe('sess_x');
    sendOne(adopted);
    expect(adopted.log.lastSeq).toBe(42);

    // It moved away and comes back with frames numbered elsewhere: the same session, not a second one of the key.
    adopted.forwardTo(() => undefined);
    const back = sessions.adopt('sess_x', alice, prefs, onSlow, 50);
    expect(back).toBe(adopted);
    expect(back.forwarded).toBe(false);
    sendOne(back);
    expect(back.log.since(0).frames.map((frame) => frame.seq)).toEqual([51]);
    expect(sessions.owned('sess_x', alice)).toBe(back);
  });

  it('tells what comes and goes, and closes a session it ends', () => {
    const sessions = registry();
    const seen: string[] = [];
    sessions.added$.subscribe((session) => seen.push(`added:${session.id}`));
    sessions.removed$.subscribe((session) => seen.push(`removed:${session.id}`));
    const session = sessions.create(alice, prefs, onSlow);
    sessions.end(session);
    expect(seen).toEqual([`added:${session.id}`, `removed:${session.id}`]);
    sendOne(session);
    expect(session.log.lastSeq).toBe(0);
    expect(sessions.all()).toEqual([]);
  });

  it('copies every numbered frame to the shared log when there is one, and none when there is not', () => {
    const mirrored = registry({}, true);
    const session = mirrored.create(alice, prefs, onSlow);
    sendOne(session);
    sendOne(session);
    expect(mirror.appended).toEqual([
      { sessionId: session.id, seq: 1 },
      { sessionId: session.id, seq: 2 },
    ]);

    const local = registry({}, false);
    sendOne(local.create(alice, prefs, onSlow));
    expect(mirror.appended).toEqual([]);
  });
});
