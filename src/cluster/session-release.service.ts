import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { ForwardedFrame } from '../session/forwarded-frame.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import type { ClusterReply } from './bus-commands.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import { RedisEventLog } from './redis-event-log.js';
import type { Handled } from '../redis/redis-bus.js';

/**
 * The owner's side of a handover (see SessionHandover): the session moves to
 * the instance a client resumed it on; what still runs here sends its frames
 * there, and the session is forgotten here once they have ended.
 */
@Injectable()
export class SessionRelease implements OnModuleInit {
  constructor(
    private readonly bus: ClusterBus,
    private readonly directory: ClusterDirectory,
    private readonly log: RedisEventLog,
    private readonly sessions: SessionRegistry,
    private readonly lifecycle: SessionLifecycle,
    private readonly registry: RequestRegistry,
  ) {}

  onModuleInit(): void {
    if (!this.directory.enabled) return;
    this.bus.handle('handover', ({ session_id: sessionId, to }) => this.giveUp(sessionId, to));
    this.registry.released$.subscribe((request) => {
      const session = this.sessions.find(request.owner.sessionId);
      if (session?.forwarded && this.registry.listSession(session.id).length === 0) this.sessions.end(session);
    });
  }

  private async giveUp(sessionId: string, to: string): Promise<Handled<ClusterReply<'handover'>>> {
    if (!(await this.directory.giveAway(sessionId, to))) throw new Error(`${sessionId} is not ours`);
    const session = this.sessions.find(sessionId);
    if (!session) return { reply: { last_seq: await this.log.lastSeq(sessionId), active: [] } };
    this.lifecycle.taken(session);
    // Another tab still here: told to resume, which brings it where the session now is.
    for (const sink of session.detachAll()) sink.socket.close(4001, 'SESSION_MOVED');
    // Whatever is queued is numbered and logged now; from here on, frames go to `to` unnumbered.
    session.flushToLog();
    const buffered: ForwardedFrame[] = [];
    session.forwardTo((frame) => buffered.push(frame));
    const active = this.registry.listSession(sessionId).map((request) => ({ request_id: request.id, key: request.handle }));
    if (active.length === 0) this.sessions.end(session);
    return {
      reply: { last_seq: session.log.lastSeq, active },
      // Frames produced before the reply left follow it, in order.
      afterReply: () => {
        const send = (frame: ForwardedFrame) => this.bus.send(to, 'frame', frame);
        session.forwardTo(send);
        for (const frame of buffered) send(frame);
      },
    };
  }
}
