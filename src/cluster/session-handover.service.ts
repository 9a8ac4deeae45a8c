import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Identity } from '../auth/api-key.service.js';
import type { ForwardedFrame } from '../session/forwarded-frame.js';
import type { Session, Sink } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { ClusterBus } from './cluster-bus.js';
import { LostRequests } from './lost-requests.service.js';
import { RedisEventLog } from './redis-event-log.js';
import { SessionMove } from './session-move.js';
import { restoredSession } from './session-record.js';

/**
 * A session moving here from another gateway instance. A client that
 * RESUMEs on an instance that does not have the session (the load balancer
 * sent it elsewhere, or the old instance died) gets it moved here: its owner
 * stops numbering (the frames it sent are in the Redis log, replayed from
 * there), closes its own sockets of the session, and forwards the frames of
 * the requests it still runs (SessionRelease), which this instance numbers
 * and sends after the replay. An upstream stream cannot move between
 * processes; its frames can.
 */
@Injectable()
export class SessionHandover implements OnModuleInit {
  /** Forwarded frames that arrived while their session was still being moved here. */
  private readonly arriving = new Map<string, ForwardedFrame[]>();

  constructor(
    private readonly move: SessionMove,
    private readonly bus: ClusterBus,
    private readonly log: RedisEventLog,
    private readonly sessions: SessionRegistry,
    private readonly lifecycle: SessionLifecycle,
    private readonly lost: LostRequests,
    @InjectPinoLogger(SessionHandover.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    if (this.log.enabled) this.bus.handle('frame', (frame) => this.forwarded(frame));
  }

  /** RESUME of a session this instance does not have. */
  async resume(sink: Sink, sessionId: string, lastSeq: number, identity: Identity): Promise<Session> {
    const entry = await this.move.locate(sessionId, identity);
    this.arriving.set(sessionId, []);
    try {
      const moved = await this.move.from(entry.owner, sessionId);
      const { frames, gap } = await this.log.since(sessionId, lastSeq, moved.lastSeq);
      const restored = restoredSession(entry.record);
      const session = this.lifecycle.adopt(sessionId, restored.identity, restored.prefs, moved.lastSeq);
      for (const request of moved.active) session.remote.add({ requestId: request.request_id, instanceId: entry.owner, key: request.key });
      this.lifecycle.attachResumed(sink, session, { lastSeq: moved.lastSeq, frames, gap });
      // What the old owner forwarded meanwhile comes after the replay, numbered here.
      for (const frame of this.arriving.get(sessionId) ?? []) session.remote.receive(frame);
      // A dead owner's requests the reaper recorded before this instance had the session.
      void this.lost.settle(sessionId);
      this.logger.info({ session_id: sessionId, from: entry.owner, still_running_there: moved.active.length }, 'session moved here');
      return session;
    } finally {
      this.arriving.delete(sessionId);
    }
  }

  private forwarded(frame: ForwardedFrame): void {
    const arriving = this.arriving.get(frame.session_id);
    if (arriving) {
      arriving.push(frame);
      return;
    }
    const session = this.sessions.find(frame.session_id);
    if (session && !session.forwarded) session.remote.receive(frame);
    else this.logger.warn({ session_id: frame.session_id }, 'a forwarded frame for a session that is not here');
  }
}
