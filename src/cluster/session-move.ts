import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import { RedisService } from '../redis/redis.service.js';
import type { ClusterReply } from './bus-commands.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { SessionRecord } from './directory-records.js';
import { RedisEventLog } from './redis-event-log.js';

/** Where a session stands once it is here: the last frame its owner numbered, and its requests still running there. */
export interface Moved {
  lastSeq: number;
  active: ClusterReply<'handover'>['active'];
}

/**
 * Moving a session's ownership to this instance, in Redis: from an owner
 * that hands it over, or from one that cannot (it died, or does not answer),
 * for a RESUME here or for the reaper.
 */
@Injectable()
export class SessionMove {
  constructor(
    private readonly redis: RedisService,
    private readonly bus: ClusterBus,
    private readonly directory: ClusterDirectory,
    private readonly log: RedisEventLog,
    @InjectPinoLogger(SessionMove.name) private readonly logger: PinoLogger,
  ) {}

  /** A session another instance owns, for the identity that owns it; SESSION_NOT_FOUND otherwise. */
  async locate(sessionId: string, identity: Identity): Promise<{ owner: string; record: SessionRecord }> {
    const entry = this.redis.enabled ? await this.directory.session(sessionId) : undefined;
    if (!entry || entry.record.user_id !== identity.userId || entry.owner === this.redis.instanceId) {
      throw new GatewayError('SESSION_NOT_FOUND');
    }
    return entry;
  }

  /** Asks the owner to give the session up; takes it over from an owner that does not answer. */
  async from(owner: string, sessionId: string): Promise<Moved> {
    try {
      const reply = await this.bus.request(owner, 'handover', { session_id: sessionId, to: this.redis.instanceId });
      return { lastSeq: reply.last_seq, active: reply.active };
    } catch (error) {
      this.logger.warn({ session_id: sessionId, owner, err: String(error) }, 'the owner did not hand the session over; taking it over');
      const taken = await this.fromDead(owner, sessionId);
      if (!taken) throw new GatewayError('SESSION_NOT_FOUND');
      return taken;
    }
  }

  /**
   * Takes the session from an owner that cannot hand it over; undefined when
   * another instance was quicker. Its requests still count as running there:
   * once the owner is found dead, they end with INSTANCE_LOST.
   */
  async fromDead(owner: string, sessionId: string): Promise<Moved | undefined> {
    // Read before taking it over: nothing that can fail may come between the move and the adoption.
    const [lastSeq, running] = await Promise.all([this.log.lastSeq(sessionId), this.directory.runningOn(owner, sessionId)]);
    if (!(await this.directory.moveSession(sessionId, owner))) return undefined;
    return { lastSeq, active: running.map((requestId) => ({ request_id: requestId, key: `${owner}/${requestId}` })) };
  }
}
