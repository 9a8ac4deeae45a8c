import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RedisService } from '../redis/redis.service.js';
import type { CancelCommand } from './bus-commands.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';

/**
 * The sending end of what reaches requests on other gateway instances:
 * stops (each goes to the instance that runs the request, which tears its
 * upstream down and confirms: only confirmed requests are reported as
 * stopped), and a client's PLAYBACK and FUNCTION_RESULT. Without Redis there
 * are no other instances, and nothing here has anything to do.
 */
@Injectable()
export class RemoteStops {
  constructor(
    private readonly redis: RedisService,
    private readonly bus: ClusterBus,
    private readonly directory: ClusterDirectory,
    @InjectPinoLogger(RemoteStops.name) private readonly logger: PinoLogger,
  ) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /** Resolves with the ids the owner stopped; an owner that does not answer stopped nothing we know of. */
  async cancelOn(instanceId: string, command: CancelCommand): Promise<string[]> {
    try {
      return (await this.bus.request(instanceId, 'cancel', command)).stopped;
    } catch (error) {
      this.logger.warn(
        { session_id: command.session_id, request_id: command.request_id, instance_id: instanceId, err: String(error) },
        'remote stop not confirmed',
      );
      return [];
    }
  }

  /** Everything of one key on the other instances; resolves with what they stopped. */
  async cancelUserElsewhere(userId: string, reason: string): Promise<{ session_id: string; request_id: string }[]> {
    if (!this.enabled) return [];
    const replies = await this.bus.broadcast('cancel-user', { user_id: userId, reason });
    return replies.flatMap((reply) => reply.stopped);
  }

  /** The other instances that run requests of a session (from the directory), leaving out `except`. */
  async ownersOf(sessionId: string, except: readonly string[]): Promise<Set<string>> {
    const owners = new Set<string>();
    if (!this.enabled) return owners;
    for (const [requestId, instanceId] of await this.directory.sessionRequests(sessionId)) {
      if (instanceId !== this.redis.instanceId && !except.includes(requestId)) owners.add(instanceId);
    }
    return owners;
  }

  /** A client's playback position, for the ledger of a request that runs on `instanceId`. */
  playback(instanceId: string, sessionId: string, payload: ParsedClientPayloads['PLAYBACK']): void {
    this.bus.send(instanceId, 'playback', { session_id: sessionId, payload });
  }

  /** A FUNCTION_RESULT, for the request that asked for it on `instanceId`. */
  functionResult(instanceId: string, sessionId: string, payload: ParsedClientPayloads['FUNCTION_RESULT']): void {
    this.bus.send(instanceId, 'function-result', { session_id: sessionId, payload });
  }
}
