import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RemoteStops } from '../cluster/remote-stops.service.js';
import type { ActiveRequest, Cancellation } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { Session } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';

/** A request another instance confirmed it stopped. */
export interface RemoteStop {
  session_id: string;
  request_id: string;
}

/**
 * What a stop stopped: here at once (the cancel subjects completed, the
 * pipelines torn down by the time this returns), and on other instances once
 * they confirm (absent when no other instance was asked).
 */
export interface StopOutcome {
  here: ActiveRequest[];
  elsewhere?: Promise<RemoteStop[]>;
}

/**
 * Every stop, whatever triggered it (an INTERRUPT of any scope, a socket
 * closing, a session expiring, an HTTP stop of a session, a key or a task,
 * an operator's cancel, a chat app closing its connection, a shutdown),
 * goes through here: the requests it names are cancelled on this instance
 * first, synchronously, then on the instances that run the others, which
 * confirm.
 */
@Injectable()
export class StopService implements OnModuleInit {
  constructor(
    private readonly registry: RequestRegistry,
    private readonly remote: RemoteStops,
    private readonly lifecycle: SessionLifecycle,
    @InjectPinoLogger(StopService.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    // A socket closing stops only what is not durable; a session ending stops everything it still runs.
    this.lifecycle.lastSocketClosed$.subscribe(({ session, reason }) =>
      this.session(session.id, cancellation(reason, 'disconnect'), { session, onlyNonDurable: true }),
    );
    this.lifecycle.ended$.subscribe(({ session, reason }) => this.session(session.id, cancellation(reason, 'expired'), { session }));
  }

  /**
   * One request of a session: here when it runs here, else on `runsOn` (the
   * instance the session knows it runs on), with where the client's playback
   * had got to.
   */
  request(
    sessionId: string,
    requestId: string,
    stop: Cancellation,
    runsOn?: { instanceId: string; playedUntil?: ParsedClientPayloads['INTERRUPT']['played_until'] },
  ): StopOutcome {
    const here = this.registry.cancel({ sessionId, requestId }, stop);
    this.logged('request', here, stop);
    if (here.length > 0 || !runsOn) return { here };
    const command = {
      session_id: sessionId,
      request_id: requestId,
      reason: stop.reason,
      source: stop.source,
      played_until: runsOn.playedUntil,
    };
    return { here, elsewhere: this.remote.cancelOn(runsOn.instanceId, command).then((ids) => remoteStops(sessionId, ids)) };
  }

  /**
   * Every request of a session (with `onlyNonDurable`: those that are not
   * durable), here and on the other instances that run some: those the
   * session knows of when it is here (`session`), else those the directory
   * lists.
   */
  session(sessionId: string, stop: Cancellation, options: { session?: Session; onlyNonDurable?: boolean } = {}): StopOutcome {
    const { session, onlyNonDurable = false } = options;
    const here = this.registry.cancel({ sessionId }, stop, (request) => !onlyNonDurable || !request.durable);
    this.logged('session', here, stop);
    const command = { session_id: sessionId, reason: stop.reason, source: stop.source, non_durable_only: onlyNonDurable };
    const stopOn = async (owners: Iterable<string>): Promise<RemoteStop[]> => {
      const stopped = await Promise.all([...owners].map((instanceId) => this.remote.cancelOn(instanceId, command)));
      return remoteStops(sessionId, stopped.flat());
    };
    if (session) {
      const owners = [...session.remote.byInstance().keys()];
      return owners.length === 0 ? { here } : { here, elsewhere: stopOn(owners) };
    }
    if (!this.remote.enabled) return { here };
    const ids = here.map((request) => request.id);
    return { here, elsewhere: this.remote.ownersOf(sessionId, ids).then(stopOn) };
  }

  /** Everything of one API key: every session, task and HTTP request, on every instance. */
  user(userId: string, stop: Cancellation): StopOutcome {
    const here = this.registry.cancel({}, stop, (request) => request.owner.userId === userId);
    this.logged('user', here, stop);
    return this.remote.enabled ? { here, elsewhere: this.remote.cancelUserElsewhere(userId, stop.reason) } : { here };
  }

  /** One request by itself (an operator's cancel, a chat completion whose client went away); false when it was stopping already. */
  one(request: ActiveRequest, stop: Cancellation): boolean {
    const stopped = request.cancel(stop);
    if (stopped) this.logged('one', [request], stop);
    return stopped;
  }

  /** What `which` picks of everything this instance runs (a shutdown). */
  everything(stop: Cancellation, which: (request: ActiveRequest) => boolean = () => true): ActiveRequest[] {
    const here = this.registry.cancel({}, stop, which);
    this.logged('everything', here, stop);
    return here;
  }

  private logged(scope: string, stopped: ActiveRequest[], stop: Cancellation): void {
    if (stopped.length === 0) return;
    this.logger.info(
      { scope, request_ids: stopped.map((request) => request.id), reason: stop.reason, source: stop.source },
      'requests stopped',
    );
  }
}

export function cancellation(reason: string, source: Cancellation['source'], receivedAt = performance.now()): Cancellation {
  return { reason, source, receivedAt };
}

function remoteStops(sessionId: string, requestIds: string[]): RemoteStop[] {
  return requestIds.map((requestId) => ({ session_id: sessionId, request_id: requestId }));
}
