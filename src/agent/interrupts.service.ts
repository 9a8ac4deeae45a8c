import type { InterruptAckPayload, ParsedClientPayloads } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { GatewayError } from '../common/gateway-error.js';
import { since } from '../common/since.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { Session } from '../session/session.js';
import { cancellation, type RemoteStop, StopService } from '../stops/stop.service.js';
import { SpokenReplies } from './spoken-replies.js';

type InterruptPayload = ParsedClientPayloads['INTERRUPT'];
type InterruptScope = NonNullable<InterruptPayload['scope']>;

/** The requests an INTERRUPT stopped: ids of its own session's, and how many of the key's others. */
interface InterruptOutcome {
  here: string[];
  elsewhere: number;
  /** Measured here, for the requests this instance stopped (another instance's are not known here). */
  upstreamClosedMs: Record<string, number>;
}

/**
 * INTERRUPT: stops what its scope names — one request, the session's, or all
 * of the key's (StopService) — and acknowledges ahead of their end frames.
 * What runs here is stopped at once and acknowledged at once; what runs on
 * other instances is acknowledged once they confirmed (meanwhile their
 * forwarded frames wait).
 */
@Injectable()
export class InterruptService {
  constructor(
    private readonly stops: StopService,
    private readonly registry: RequestRegistry,
    private readonly spoken: SpokenReplies,
    private readonly metrics: MetricsService,
    @InjectPinoLogger(InterruptService.name) private readonly logger: PinoLogger,
  ) {}

  /** `source`: the client's INTERRUPT, or the user's voice (barge-in). */
  interrupt(session: Session, payload: InterruptPayload, receivedAt: number, source: 'client' | 'voice' = 'client'): void | Promise<void> {
    const requestId = payload.interrupt_request_id ?? undefined;
    const scope = payload.scope ?? (requestId === undefined ? 'session' : 'request');
    if (scope === 'request' && requestId === undefined) {
      throw new GatewayError('INVALID_MESSAGE', { message: 'scope "request" needs interrupt_request_id' });
    }
    const latencyMs = since(receivedAt);
    // Before the cancel: the end frame and the history take what was heard up to here.
    if (requestId !== undefined && payload.played_until) session.speech.get(requestId)?.reportPlayed(payload.played_until);
    const stop = cancellation(payload.reason, source, receivedAt);
    const outcome =
      scope === 'user'
        ? this.stops.user(session.userId, stop)
        : scope === 'request' && requestId !== undefined
          ? this.stops.request(session.id, requestId, stop, this.runsOn(session, requestId, payload))
          : this.stops.session(session.id, stop, { session });
    // Logged once the provider is cut and the ACK has left: writing the line took about 0.1 ms ahead of both.
    setImmediate(() =>
      this.logger.info(
        { session_id: session.id, request_id: requestId ?? '*', scope, reason: payload.reason, latency_ms: latencyMs },
        'interrupt received',
      ),
    );
    // The cancels tore the pipelines down synchronously, so their upstream streams are closed by now.
    const here = outcome.here.filter((request) => request.owner.sessionId === session.id);
    if (scope !== 'request' || here.length === 0) this.dropEndedAudio(session, scope === 'request' ? requestId : undefined);
    const local: InterruptOutcome = {
      here: here.map((request) => request.id),
      elsewhere: outcome.here.length - here.length,
      upstreamClosedMs: Object.fromEntries(here.flatMap((r) => (r.upstreamClosedMs === undefined ? [] : [[r.id, r.upstreamClosedMs]]))),
    };
    if (!outcome.elsewhere) return this.acknowledge(session, payload, scope, local, receivedAt);
    const release = session.remote.hold();
    return outcome.elsewhere
      .then((remote) => this.acknowledge(session, payload, scope, this.withRemote(session, local, remote), receivedAt))
      .finally(release);
  }

  /** Where the request runs, when it runs on another instance (the session moved here while it ran). */
  private runsOn(
    session: Session,
    requestId: string,
    payload: InterruptPayload,
  ): { instanceId: string; playedUntil: InterruptPayload['played_until'] } | undefined {
    const remote = session.remote.find(requestId);
    return remote && { instanceId: remote.instanceId, playedUntil: payload.played_until };
  }

  /** What other instances stopped: this session's, whose frames still on the way are dropped as a local stop drops them, and others. */
  private withRemote(session: Session, local: InterruptOutcome, remote: RemoteStop[]): InterruptOutcome {
    const mine = remote.filter((stopped) => stopped.session_id === session.id).map((stopped) => stopped.request_id);
    for (const id of mine) {
      const running = session.remote.find(id);
      if (!running) continue;
      session.remote.markStopping(id);
      session.dropRequest(running.ref);
    }
    return { ...local, here: [...local.here, ...mine], elsewhere: local.elsewhere + remote.length - mine.length };
  }

  private acknowledge(
    session: Session,
    payload: InterruptPayload,
    scope: InterruptScope,
    outcome: InterruptOutcome,
    receivedAt: number,
  ): void {
    const ack: InterruptAckPayload = {
      interrupt_request_id: payload.interrupt_request_id ?? null,
      scope,
      interrupted_request_ids: outcome.here,
      ...(scope === 'user' && { stopped_elsewhere: outcome.elsewhere }),
      status: outcome.here.length + outcome.elsewhere > 0 ? 'SUCCESS' : 'NOT_FOUND',
      reason: payload.reason,
      ...(Object.keys(outcome.upstreamClosedMs).length > 0 && { upstream_closed_ms: outcome.upstreamClosedMs }),
    };
    session.send('INTERRUPT_ACK', ack, { lane: 'urgent' });
    this.metrics.interruptAck.observe((performance.now() - receivedAt) / 1000);
  }

  /**
   * Requests that have ended may still have audio waiting for a slow client:
   * an INTERRUPT naming one (it gets NOT_FOUND: the request is over), or the
   * whole session, drops that audio too. Its end frame, queued behind the
   * audio, stays — a request gets exactly one — and counts only the frames
   * that were sent.
   */
  private dropEndedAudio(session: Session, requestId: string | undefined): void {
    for (const request of session.requestsWithQueuedAudio()) {
      if (requestId !== undefined && request.id !== requestId) continue;
      if (this.registry.find(session.id, request.id) === request) continue; // still running, and not stopped by this INTERRUPT
      this.spoken.get(request)?.retract(session.dropRequest(request, 'audio'));
    }
  }
}
