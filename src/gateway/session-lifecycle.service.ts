import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { WebSocket } from 'ws';
import { AgentService } from '../agent/agent.service.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { ResumeAckPayload } from '../protocol/server-messages.js';
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
 */
@Injectable()
export class SessionLifecycle {
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
    const session = this.sessions.resumable(sessionId, identity);
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

  /** A session without sockets ends unless it is resumed within RESUME_GRACE_MS. */
  awaitResume(session: Session): void {
    this.sessions.awaitResume(session, this.config.sessions.resumeGraceMs, () => this.end(session, 'RESUME_GRACE_EXPIRED'));
  }

  /** Ends a session: whatever it still runs is cancelled, its history kept for HISTORY_TTL_MS. */
  end(session: Session, reason: string): void {
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
