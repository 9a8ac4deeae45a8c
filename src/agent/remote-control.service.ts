import { Injectable, Logger } from '@nestjs/common';
import type { CancelCommand } from '../cluster/bus-messages.js';
import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import type { Cancellation } from '../request-registry/active-request.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';

/**
 * Stops that reach requests on other gateway instances. Each goes to the
 * instance that runs the request, which tears its upstream down and confirms:
 * only confirmed requests are reported as stopped. Without Redis there are no
 * other instances and nothing here is called with anything to do.
 */
@Injectable()
export class RemoteControl {
  private readonly logger = new Logger(RemoteControl.name);

  constructor(
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly registry: RequestRegistry,
  ) {}

  get enabled(): boolean {
    return this.cluster.enabled;
  }

  /** Resolves with the ids the owner stopped; an owner that does not answer stopped nothing we know of. */
  async cancelOn(instanceId: string, command: CancelCommand): Promise<string[]> {
    try {
      return (await this.cluster.request(instanceId, 'cancel', command)).stopped;
    } catch (error) {
      this.logger.warn(`stop of ${command.session_id}/${command.request_id ?? '*'} on ${instanceId} not confirmed: ${String(error)}`);
      return [];
    }
  }

  /** Everything of one key on the other instances; resolves with what they stopped. */
  async cancelUserElsewhere(userId: string, reason: string): Promise<{ session_id: string; request_id: string }[]> {
    if (!this.enabled) return [];
    const replies = await this.cluster.broadcast('cancel-user', { user_id: userId, reason });
    return replies.flatMap((reply) => reply.stopped);
  }

  /**
   * A session's requests wherever they run (an HTTP stop by session): the
   * local ones here, the others through their instances, found in Redis.
   */
  async cancelSessionAnywhere(sessionId: string, cancellation: Cancellation): Promise<string[]> {
    const here = this.registry.cancel(sessionId, undefined, cancellation).map((request) => request.id);
    if (!this.enabled) return here;
    const owners = new Set<string>();
    for (const [requestId, instanceId] of await this.directory.sessionRequests(sessionId)) {
      if (instanceId !== this.cluster.instanceId && !here.includes(requestId)) owners.add(instanceId);
    }
    const elsewhere = await Promise.all(
      [...owners].map((instanceId) =>
        this.cancelOn(instanceId, { session_id: sessionId, reason: cancellation.reason, source: cancellation.source }),
      ),
    );
    return [...here, ...elsewhere.flat()];
  }

  /** A client's playback position, for the ledger of a request that runs on `instanceId`. */
  playback(instanceId: string, sessionId: string, payload: ParsedClientPayloads['PLAYBACK']): void {
    this.cluster.send(instanceId, 'playback', { session_id: sessionId, payload });
  }

  /** A FUNCTION_RESULT, for the request that asked for it on `instanceId`. */
  functionResult(instanceId: string, sessionId: string, payload: ParsedClientPayloads['FUNCTION_RESULT']): void {
    this.cluster.send(instanceId, 'function-result', { session_id: sessionId, payload });
  }
}
