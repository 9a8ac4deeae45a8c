import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type Observable, Subject } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Session, type SessionLimits, type SessionPrefs, type SlowSinks } from './session.js';
import { SessionLogMirror } from './session-log-mirror.js';

/**
 * The sessions this instance owns (MAX_SESSIONS of them at most), by id. A
 * session outlives its sockets: it may have several, or none for a while
 * (SessionLifecycle decides when it ends). What other instances need to know
 * of them (cluster/directory-mirror) follows `added$` and `removed$`.
 */
@Injectable()
export class SessionRegistry implements OnModuleInit {
  private readonly sessions = new Map<string, Session>();
  /** Each API key's sessions here: how many, and the identity they share (one object per key, not one per session). */
  private readonly perKey = new Map<string, { identity: Identity; sessions: number }>();
  private readonly limits: SessionLimits;
  private readonly added = new Subject<Session>();
  private readonly removed = new Subject<Session>();
  /** A session made here, or taken over from another instance. */
  readonly added$: Observable<Session> = this.added.asObservable();
  /** A session that ended here (or was given up to another instance). */
  readonly removed$: Observable<Session> = this.removed.asObservable();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly logMirror: SessionLogMirror,
  ) {
    const { ws, eventLog } = config;
    this.limits = {
      outbound: { highWaterBytes: ws.sendHighWaterBytes, hardLimitBytes: ws.sendHardLimitBytes },
      log: eventLog,
    };
  }

  onModuleInit(): void {
    this.metrics.activeGauge('gateway_active_sessions', 'Sessions on this instance, with or without sockets', () => this.sessions.size);
  }

  /** A new session. Throws SERVER_BUSY at the session limit; `onSlow` gets the sockets that fall too far behind. */
  create(identity: Identity, prefs: SessionPrefs, onSlow: SlowSinks): Session {
    return this.add(`sess_${randomUUID()}`, identity, prefs, onSlow, 0);
  }

  /**
   * A session taken over from another instance, numbering on after `lastSeq`.
   * One still here because it was forwarded elsewhere (and comes back) is
   * reclaimed rather than made again.
   */
  adopt(sessionId: string, identity: Identity, prefs: SessionPrefs, onSlow: SlowSinks, lastSeq: number): Session {
    const existing = this.sessions.get(sessionId);
    if (existing) {
      existing.reclaim(lastSeq);
      return existing;
    }
    return this.add(sessionId, identity, prefs, onSlow, lastSeq);
  }

  private add(id: string, identity: Identity, prefs: SessionPrefs, onSlow: SlowSinks, lastSeq: number): Session {
    const { maxSessions, maxSessionsPerKey } = this.config.limits;
    if (this.sessions.size >= maxSessions) throw new GatewayError('SERVER_BUSY');
    const ofKey = this.perKey.get(identity.userId) ?? { identity, sessions: 0 };
    if (ofKey.sessions >= maxSessionsPerKey) {
      throw new GatewayError('SESSION_LIMITED', { message: `An API key may have at most ${maxSessionsPerKey} sessions at once` });
    }
    ofKey.sessions += 1;
    this.perKey.set(identity.userId, ofKey);
    const shared = sameIdentity(ofKey.identity, identity) ? ofKey.identity : identity;
    const mirror = this.logMirror.enabled ? this.logMirror : undefined;
    const session = new Session(id, shared, prefs, this.limits, onSlow, { lastSeq, mirror });
    this.sessions.set(session.id, session);
    this.added.next(session);
    return session;
  }

  find(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /**
   * A session of this instance, for the identity that owns it only (another
   * one gets the same answer as a session that does not exist).
   */
  owned(sessionId: string, identity: Identity): Session {
    const session = this.sessions.get(sessionId);
    if (!session || session.forwarded || session.userId !== identity.userId) throw new GatewayError('SESSION_NOT_FOUND');
    return session;
  }

  end(session: Session): void {
    if (this.sessions.get(session.id) === session) {
      this.sessions.delete(session.id);
      const ofKey = this.perKey.get(session.userId);
      if (ofKey) ofKey.sessions -= 1;
      if (ofKey?.sessions === 0) this.perKey.delete(session.userId);
    }
    this.removed.next(session);
    session.close();
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }
}

/** The same key, as authentication tells it: one userId is one key, but nothing is taken for granted. */
function sameIdentity(a: Identity, b: Identity): boolean {
  return a.userId === b.userId && a.admin === b.admin && a.keyName === b.keyName;
}
