import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { WebSocket } from 'ws';
import { AgentService } from '../agent/agent.service.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { ResumeAckPayload } from '@agent-gateway/protocol';
import type { LoggedFrame } from './event-log.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';
import type { Connection } from './connection.js';
import type { Session, SessionPrefs } from './session.js';
import { SessionService } from './session.service.js';

/**
 * How sessions begin, move between sockets and end. A socket closing never
 * stops more than its own session's non-durable requests, and only when it was
 * the session's last socket; durable requests run on, for a RESUME within
 * RESUME_GRACE_MS; after that the session ends and its requests with it.
 * A session is in use while it has a socket or a task borrowing it; only
 * then does its grace period run, and this service alone arms and clears it.
 */
@Injectable()
export class SessionLifecycle {
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** How many tasks run in each session that they borrowed (POST /v1/tasks with its session_id). */
  private readonly borrowers = new Map<string, number>();

  constructor(
    private readonly sessions: SessionService,
    private readonly agent: AgentService,
    private readonly conversations: ConversationService,
    private readonly registry: RequestRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(SessionLifecycle.name) private readonly logger: PinoLogger,
  ) {}

  create(identity: Identity, prefs: SessionPrefs, connection?: Connection): Session {
    return this.sessions.create(identity, prefs, (slow) => this.dropSlow(slow), connection);
  }

  /** A session taken over from another instance (see SessionHandover, InstanceReaper). */
  adopt(sessionId: string, identity: Identity, prefs: SessionPrefs, lastSeq: number): Session {
    return this.sessions.adopt(sessionId, identity, prefs, (slow) => this.dropSlow(slow), lastSeq);
  }

  /** RESUME of a session this instance has, from its own log. */
  resume(connection: Connection, sessionId: string, lastSeq: number, identity: Identity): Session {
    const session = this.sessions.owned(sessionId, identity);
    if (lastSeq > session.log.lastSeq) {
      throw new GatewayError('LAST_SEQ_AHEAD', { message: `last_seq ${lastSeq} is ahead of the session's last frame, ${session.log.lastSeq}` });
    }
    this.taken(session);
    const { frames, gap } = session.log.since(lastSeq);
    this.attachResumed(connection, session, {
      ack: {
        session_id: session.id,
        last_seq: session.log.lastSeq,
        replayed: frames.length,
        gap,
        active_request_ids: [...this.registry.listSession(session.id).map((request) => request.id), ...session.remote.activeIds()],
      },
      frames,
    });
    return session;
  }

  /**
   * Replays the frames straight to the new socket, then attaches it to the
   * session, in one synchronous step, so that frames sent meanwhile are
   * neither lost nor doubled.
   */
  attachResumed(connection: Connection, session: Session, replay: { ack: ResumeAckPayload; frames: LoggedFrame[] }): void {
    const { ack, frames } = replay;
    connection.attach(session);
    connection.sendDirect('RESUME_ACK', ack);
    for (const frame of frames) connection.socket.send(frame.data);
    session.attach(connection);
    this.logger.info({ session_id: session.id, last_seq: ack.last_seq, replayed: frames.length, gap: ack.gap }, 'session resumed');
  }

  /** A socket closed (or was dropped): when it was the session's last one, the session waits for a RESUME. */
  closed(socket: WebSocket, reason: string): void {
    const detached = this.sessions.disconnect(socket);
    // A session that moved to another instance is that instance's to cancel or keep.
    if (!detached || detached.remaining > 0 || detached.session.forwarded) return;
    const { session } = detached;
    this.agent.cancelSession(session, reason, 'disconnect', true);
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
    this.agent.cancelSession(session, reason, 'expired');
    this.conversations.release(session.id);
    this.sessions.end(session);
    this.logger.info({ session_id: session.id, reason }, 'session ended');
  }

  /** Sockets too slow to keep up: they are told why and dropped; the session goes on with the others. */
  private dropSlow(connections: Connection[]): void {
    for (const connection of connections) {
      this.logger.warn({ session_id: connection.session?.id, remote: connection.remoteAddress }, 'dropping a slow connection');
      connection.fail(new GatewayError('SLOW_CONSUMER'));
      this.closed(connection.socket, 'CLIENT_TOO_SLOW');
    }
  }
}
