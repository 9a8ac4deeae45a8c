import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Identity } from '../auth/api-key.service.js';
import type { BusReply, ForwardedFrame, Handled } from '../cluster/bus-messages.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { RedisEventLog } from '../cluster/redis-event-log.js';
import { GatewayError } from '../errors/gateway-error.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';
import type { Connection } from './connection.js';
import type { Session } from './session.js';
import { LostRequests } from './lost-requests.service.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
import { restoredSession } from './session-record.js';
import { SessionService } from './session.service.js';

/**
 * A session moving between gateway instances. A client that RESUMEs on an
 * instance that does not have the session (the load balancer sent it
 * elsewhere, or the old instance died) gets it moved here: its owner stops
 * numbering (the frames it sent are in the Redis log, replayed from there),
 * closes its own sockets of the session, and forwards the frames of the
 * requests it still runs, which this instance numbers and sends after the
 * replay. An upstream stream cannot move between processes; its frames can.
 * A dead owner's session is taken over as it is in Redis.
 */
@Injectable()
export class SessionHandover implements OnModuleInit {
  private readonly logger = new Logger(SessionHandover.name);
  /** Forwarded frames that arrived while their session was still being moved here. */
  private readonly arriving = new Map<string, ForwardedFrame[]>();

  constructor(
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly log: RedisEventLog,
    private readonly sessions: SessionService,
    private readonly lifecycle: SessionLifecycle,
    private readonly registry: RequestRegistry,
    private readonly lost: LostRequests,
  ) {}

  onModuleInit(): void {
    if (!this.cluster.enabled) return;
    this.cluster.handle('handover', ({ session_id: sessionId, to }) => this.giveUp(sessionId, to));
    this.cluster.handle('frame', (frame) => this.forwarded(frame));
    // A session given up while it still ran requests here is forgotten here once they have ended.
    this.registry.released$.subscribe((request) => {
      const session = this.sessions.find(request.owner.sessionId);
      if (session?.forwarded && this.registry.listSession(session.id).length === 0) this.sessions.end(session);
    });
  }

  /** RESUME of a session this instance does not have. */
  async resume(connection: Connection, sessionId: string, lastSeq: number, identity: Identity): Promise<Session> {
    const entry = this.cluster.enabled ? await this.directory.session(sessionId) : undefined;
    if (!entry || entry.record.user_id !== identity.userId || entry.owner === this.cluster.instanceId) {
      throw new GatewayError('SESSION_NOT_FOUND');
    }
    this.arriving.set(sessionId, []);
    try {
      const { upTo, active } = await this.takeOver(sessionId, entry.owner);
      const { frames, gap } = await this.log.since(sessionId, lastSeq, upTo);
      const restored = restoredSession(entry.record);
      const session = this.lifecycle.adopt(sessionId, restored.identity, restored.prefs, upTo);
      for (const request of active) session.remote.add({ requestId: request.request_id, instanceId: entry.owner, key: request.key });
      this.lifecycle.attachResumed(connection, session, {
        ack: {
          session_id: sessionId,
          last_seq: upTo,
          replayed: frames.length,
          gap,
          active_request_ids: [...this.registry.listSession(sessionId).map((request) => request.id), ...session.remote.activeIds()],
        },
        frames,
      });
      // What the old owner forwarded meanwhile comes after the replay, numbered here.
      for (const frame of this.arriving.get(sessionId) ?? []) session.remote.receive(frame);
      // A dead owner's requests the reaper recorded before this instance had the session.
      void this.lost.settle(sessionId);
      this.logger.log(`session ${sessionId} moved here from ${entry.owner} (${active.length} requests still run there)`);
      return session;
    } finally {
      this.arriving.delete(sessionId);
    }
  }

  /** Asks the owner to give the session up; takes it over from an owner that does not answer. */
  private async takeOver(sessionId: string, owner: string): Promise<{ upTo: number; active: BusReply<'handover'>['active'] }> {
    try {
      const reply = await this.cluster.request(owner, 'handover', { session_id: sessionId, to: this.cluster.instanceId });
      return { upTo: reply.last_seq, active: reply.active };
    } catch (error) {
      this.logger.warn(`owner ${owner} of ${sessionId} did not hand it over (${String(error)}); taking it over`);
      // Read before taking it over: nothing that can fail may come between the move and the adoption.
      const [upTo, running] = await Promise.all([this.log.lastSeq(sessionId), this.directory.runningOn(owner, sessionId)]);
      if (!(await this.directory.moveSession(sessionId, owner))) throw new GatewayError('SESSION_NOT_FOUND');
      // Still running as far as anyone can know: once the owner is found dead, they end with INSTANCE_LOST.
      return { upTo, active: running.map((requestId) => ({ request_id: requestId, key: `${owner}/${requestId}` })) };
    }
  }

  /** On the owner: the session moves to `to`, which a client resumed it on. */
  private async giveUp(sessionId: string, to: string): Promise<Handled<BusReply<'handover'>>> {
    if (!(await this.directory.moveSession(sessionId, this.cluster.instanceId, to))) throw new Error(`${sessionId} is not ours`);
    const session = this.sessions.find(sessionId);
    if (!session) return { reply: { last_seq: await this.log.lastSeq(sessionId), active: [] } };
    this.lifecycle.taken(session);
    // Another tab still here: told to resume, which brings it where the session now is.
    for (const connection of session.detachAll()) connection.socket.close(4001, 'SESSION_MOVED');
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
        const send = (frame: ForwardedFrame) => this.cluster.send(to, 'frame', frame);
        session.forwardTo(send);
        for (const frame of buffered) send(frame);
      },
    };
  }

  private forwarded(frame: ForwardedFrame): void {
    const arriving = this.arriving.get(frame.session_id);
    if (arriving) {
      arriving.push(frame);
      return;
    }
    const session = this.sessions.find(frame.session_id);
    if (session && !session.forwarded) session.remote.receive(frame);
    else this.logger.warn(`frame for ${frame.session_id}, which is not here`);
  }
}
