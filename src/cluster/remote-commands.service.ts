import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Handled } from '../redis/redis-bus.js';
import type { ActiveRequest, CancelSource } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import type { CancelCommand, ClusterReply } from './bus-commands.js';
import { ClusterBus } from './cluster-bus.js';

/**
 * What other instances ask of the requests running here: stops (the
 * receiving end of stops/StopService, confirmed before they take effect, so
 * the confirmation reaches the asking instance ahead of the end frames they
 * cause), and a client's PLAYBACK and FUNCTION_RESULT for a request whose
 * session moved to that instance.
 */
@Injectable()
export class RemoteCommands implements OnModuleInit {
  constructor(
    private readonly bus: ClusterBus,
    private readonly registry: RequestRegistry,
    private readonly sessions: SessionRegistry,
    @InjectPinoLogger(RemoteCommands.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    this.bus.handle('cancel', (command) => this.cancel(command));
    this.bus.handle('cancel-user', ({ user_id: userId, reason }) => {
      const targets = this.registry.list().filter((request) => request.owner.userId === userId && !request.cancellation);
      return {
        reply: { stopped: targets.map((request) => ({ session_id: request.owner.sessionId, request_id: request.id })) },
        afterReply: () => stop(targets, reason, 'client'),
      };
    });
    this.bus.handle('playback', ({ session_id: sessionId, payload }) => {
      this.sessions.find(sessionId)?.speech.get(payload.request_id)?.reportPlayed(payload);
    });
    this.bus.handle('function-result', ({ session_id: sessionId, payload }) => {
      if (!this.sessions.find(sessionId)?.functionResult(payload)) {
        this.logger.info(
          { session_id: sessionId, request_id: payload.request_id, call_id: payload.call_id },
          'forwarded FUNCTION_RESULT ignored: the call is not pending',
        );
      }
    });
  }

  private cancel(command: CancelCommand): Handled<ClusterReply<'cancel'>> {
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
      afterReply: () => stop(targets, command.reason, command.source),
    };
  }
}

function stop(targets: ActiveRequest[], reason: string, source: CancelSource): void {
  const receivedAt = performance.now();
  for (const request of targets) request.cancel({ reason, source, receivedAt });
}
