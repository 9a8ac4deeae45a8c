import type { ResumeAckPayload } from '@agent-gateway/protocol';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { type Observable, Subject } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { LoggedFrame } from './event-log.js';
import type { Session, SessionPrefs, Sink, SlowSinks } from './session.js';
import { SessionRegistry } from './session-registry.service.js';

/** A session's part in a RESUME: what the client asked for and the frames to replay to it. */
export interface Replay {
  /** The session's latest frame number when the replay started. */
  lastSeq: number;
  frames: LoggedFrame[];
  gap: boolean;
}

/** A session and why something happened to it. */
export interface SessionEvent {
  session: Session;
  reason: string;
}

/**
 * How sessions begin, move between sockets and end. A session is in use
 * while it has a socket or a task borrowing it; only when it has neither
 * does its grace period (RESUME_GRACE_MS) run, and this service alone arms
 * and clears it. What stops when (stops/StopService follows the events):
 * when its last socket closes, its requests that are not durable
 * (`lastSocketClosed$`); when it ends, everything it still runs (`ended$`).
 */
@Injectable()
export class SessionLifecycle {
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** How many tasks run in each session that they borrowed (POST /v1/tasks with its session_id). */
  private readonly borrowers = new Map<string, number>();
  private readonly lastSocketClosed = new Subject<SessionEvent>();
  private readonly ended = new Subject<SessionEvent>();
  readonly lastSocketClosed$: Observable<SessionEvent> = this.lastSocketClosed.asObservable();
  readonly ended$: Observable<SessionEvent> = this.ended.asObservable();

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly conversations: ConversationService,
    private readonly registry: RequestRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(SessionLifecycle.name) private readonly logger: PinoLogger,
  ) {}

  /** A new session, with a first socket or none (a REST task). */
  create(identity: Identity, prefs: SessionPrefs, sink?: Sink): Session {
    const session = this.sessions.create(identity, prefs, this.dropSlow);
    if (sink) {
      sink.attach(session);
      session.attach(sink);
    }
    return session;
  }

  /** A session taken over from another instance (cluster: a handover, a dead owner). */
  adopt(sessionId: string, identity: Identity, prefs: SessionPrefs, lastSeq: number): Session {
    return this.sessions.adopt(sessionId, identity, prefs, this.dropSlow, lastSeq);
  }

  /** RESUME of a session this instance has: the session, taken (it no longer expires), and what to replay from its own log. */
  resumable(sessionId: string, identity: Identity, lastSeq: number): { session: Session; replay: Replay } {
    const session = this.sessions.owned(sessionId, identity);
    if (lastSeq > session.log.lastSeq) {
      throw new GatewayError('LAST_SEQ_AHEAD', {
        message: `last_seq ${lastSeq} is ahead of the session's last frame, ${session.log.lastSeq}`,
      });
    }
    this.taken(session);
    const { frames, gap } = session.log.since(lastSeq);
    return { session, replay: { lastSeq: session.log.lastSeq, frames, gap } };
  }

  /**
   * RESUME_ACK and the frames straight to the new socket, then the socket
   * joins the session, in one synchronous step, so that frames sent
   * meanwhile are neither lost nor doubled.
   */
  attachResumed(sink: Sink, session: Session, { lastSeq, frames, gap }: Replay): void {
    const ack: ResumeAckPayload = {
      session_id: session.id,
      last_seq: lastSeq,
      replayed: frames.length,
      gap,
      active_request_ids: [...this.registry.listSession(session.id).map((request) => request.id), ...session.remote.activeIds()],
    };
    sink.attach(session);
    sink.sendDirect('RESUME_ACK', ack);
    for (const frame of frames) sink.socket.send(frame.data);
    session.attach(sink);
    this.logger.info({ session_id: session.id, last_seq: lastSeq, replayed: frames.length, gap }, 'session resumed');
  }

  /** A socket of the session closed (or was dropped): when it was the last one, the session waits for a RESUME. */
  detached(session: Session, sink: Sink, reason: string): void {
    const remaining = session.detach(sink);
    // A session that moved to another instance is that instance's to cancel or keep.
    if (remaining !== 0 || session.forwarded) return;
    this.lastSocketClosed.next({ session, reason });
    this.awaitResume(session);
    this.logger.info({ session_id: session.id, reason }, 'last socket closed; the session waits for a RESUME');
  }

  /** A session no socket or task uses ends unless it is resumed within RESUME_GRACE_MS. */
  awaitResume(session: Session): void {
    if (session.connectionCount > 0 || session.forwarded || this.borrowers.has(session.id)) return;
    clearTimeout(this.graceTimers.get(session.id));
    const expire = (): void => {
      this.graceTimers.delete(session.id);
      this.end(session, 'RESUME_GRACE_EXPIRED');
    };
    this.graceTimers.set(session.id, setTimeout(expire, this.config.sessions.resumeGraceMs).unref());
  }

  /** The session is taken (resumed here, or moved elsewhere): it no longer waits to expire. */
  taken(session: Session): void {
    clearTimeout(this.graceTimers.get(session.id));
    this.graceTimers.delete(session.id);
  }

  /**
   * A task runs in the session (one it was started in, not made for it): the
   * session does not expire meanwhile. Call once the task has started; the
   * function returned is for when it ends (once).
   */
  borrow(session: Session): () => void {
    this.taken(session);
    this.borrowers.set(session.id, (this.borrowers.get(session.id) ?? 0) + 1);
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      const left = (this.borrowers.get(session.id) ?? 1) - 1;
      if (left > 0) return void this.borrowers.set(session.id, left);
      this.borrowers.delete(session.id);
      this.awaitResume(session);
    };
  }

  /** Ends a session: whatever it still runs is cancelled, its history kept for HISTORY_TTL_MS. */
  end(session: Session, reason: string): void {
    this.taken(session);
    this.borrowers.delete(session.id);
    this.ended.next({ session, reason });
    this.conversations.release(session.id);
    this.sessions.end(session);
    this.logger.info({ session_id: session.id, reason }, 'session ended');
  }

  /** Sockets too slow to keep up: they are told why and dropped; the session goes on with the others. One function for every session. */
  private readonly dropSlow: SlowSinks = (session, sinks) => {
    for (const sink of sinks) {
      this.logger.warn({ session_id: session.id }, 'dropping a slow connection');
      sink.fail(new GatewayError('SLOW_CONSUMER'));
      this.detached(session, sink, 'CLIENT_TOO_SLOW');
    }
  };
}
