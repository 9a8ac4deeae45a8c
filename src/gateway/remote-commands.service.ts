import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AgentService } from '../agent/agent.service.js';
import type { BusReply, CancelCommand, Handled } from '../cluster/bus-messages.js';
import { ClusterService } from '../cluster/cluster.service.js';
import type { ActiveRequest } from '../request-registry/active-request.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';
import { SessionService } from './session.service.js';

/**
 * What other instances ask of the requests running here: stops (confirmed
 * before they take effect, so the confirmation reaches the asking instance
 * ahead of the end frames they cause), and a client's PLAYBACK and
 * FUNCTION_RESULT for a request whose session moved to that instance.
 */
@Injectable()
export class RemoteCommands implements OnModuleInit {
  constructor(
    private readonly cluster: ClusterService,
    private readonly registry: RequestRegistry,
    private readonly sessions: SessionService,
    private readonly agent: AgentService,
  ) {}

  onModuleInit(): void {
    if (!this.cluster.enabled) return;
    this.cluster.handle('cancel', (command) => this.cancel(command));
    this.cluster.handle('cancel-user', ({ user_id: userId, reason }) => {
      const targets = this.registry.list().filter((request) => request.owner.userId === userId && !request.cancellation);
      return {
        reply: { stopped: targets.map((request) => ({ session_id: request.owner.sessionId, request_id: request.id })) },
        afterReply: () => this.stop(targets, reason, 'client'),
      };
    });
    this.cluster.handle('playback', ({ session_id: sessionId, payload }) => {
      this.sessions.find(sessionId)?.speech.get(payload.request_id)?.reportPlayed(payload);
    });
    this.cluster.handle('function-result', ({ session_id: sessionId, payload }) => {
      const session = this.sessions.find(sessionId);
      if (session) this.agent.functionResult(session, payload);
    });
  }

  private cancel(command: CancelCommand): Handled<BusReply<'cancel'>> {
    const { session_id: sessionId, request_id: requestId } = command;
    // Before the stop: the end frame and the history take what was heard up to here.
    if (requestId !== undefined && command.played_until) {
      this.sessions.find(sessionId)?.speech.get(requestId)?.reportPlayed(command.played_until);
    }
    const candidates = requestId === undefined ? this.registry.listSession(sessionId) : [this.registry.find(sessionId, requestId)];
    const targets = candidates.filter(
      (request): request is ActiveRequest =>
        request !== undefined && !request.cancellation && !(command.non_durable_only && request.durable),
    );
    return {
      reply: { stopped: targets.map((request) => request.id) },
      afterReply: () => this.stop(targets, command.reason, command.source),
    };
  }

  private stop(targets: ActiveRequest[], reason: string, source: CancelCommand['source']): void {
    const receivedAt = performance.now();
    for (const request of targets) request.cancel({ reason, source, receivedAt });
  }
}
