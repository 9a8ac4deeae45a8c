import { Injectable, type OnModuleInit } from '@nestjs/common';
import { filter, firstValueFrom, merge, type Observable, Subject, timer } from 'rxjs';
import { GatewayError } from '../common/gateway-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TRANSPORTS } from '../common/transport.js';
import { ActiveRequest, type Cancellation, type RequestOwner } from './active-request.js';

/**
 * Every active request, by session. Request ids are scoped to their session,
 * so one session can never reach another's request. Each request's cancel
 * subject lives here, with the pipeline it stops; what other instances need
 * to know (cluster/directory-mirror) follows `registered$` and `released$`.
 */
@Injectable()
export class RequestRegistry implements OnModuleInit {
  private readonly bySession = new Map<string, Map<string, ActiveRequest>>();
  private readonly byHandle = new Map<string, ActiveRequest>();
  private readonly registered = new Subject<ActiveRequest>();
  private readonly released = new Subject<ActiveRequest>();
  /** Every request as it is registered. */
  readonly registered$: Observable<ActiveRequest> = this.registered.asObservable();
  /** Every request as its pipeline ends. */
  readonly released$: Observable<ActiveRequest> = this.released.asObservable();
  /** Cleared once the gateway drains for a shutdown: what runs finishes, nothing new starts. */
  private acceptingNew = true;

  constructor(private readonly metrics: MetricsService) {}

  onModuleInit(): void {
    this.metrics.activeGauge(
      'gateway_active_requests',
      'Requests running on this instance, by transport',
      () => {
        const counts = Object.fromEntries(TRANSPORTS.map((transport) => [transport, 0]));
        for (const request of this.byHandle.values()) counts[request.owner.transport] += 1;
        return counts;
      },
      'transport',
    );
  }

  /** Throws NOT_READY, DUPLICATE_REQUEST or TOO_MANY_REQUESTS; the caller must `release()` it when its pipeline ends. */
  register(requestId: string, owner: RequestOwner, maxPerSession: number, durable = false): ActiveRequest {
    if (!this.acceptingNew) throw new GatewayError('NOT_READY', { requestId });
    let session = this.bySession.get(owner.sessionId);
    if (session?.has(requestId)) throw new GatewayError('DUPLICATE_REQUEST', { requestId });
    if (session && session.size >= maxPerSession) {
      throw new GatewayError('TOO_MANY_REQUESTS', {
        requestId,
        message: `At most ${maxPerSession} requests may run at once in a session`,
      });
    }
    if (!session) {
      session = new Map();
      this.bySession.set(owner.sessionId, session);
    }
    const request = new ActiveRequest(requestId, owner, durable);
    session.set(requestId, request);
    this.byHandle.set(request.handle, request);
    this.registered.next(request);
    return request;
  }

  release(request: ActiveRequest): void {
    const session = this.bySession.get(request.owner.sessionId);
    if (session?.get(request.id) !== request) return;
    session.delete(request.id);
    this.byHandle.delete(request.handle);
    if (session.size === 0) this.bySession.delete(request.owner.sessionId);
    this.released.next(request);
  }

  find(sessionId: string, requestId: string): ActiveRequest | undefined {
    return this.bySession.get(sessionId)?.get(requestId);
  }

  listSession(sessionId: string): ActiveRequest[] {
    return [...(this.bySession.get(sessionId)?.values() ?? [])];
  }

  list(): ActiveRequest[] {
    return [...this.byHandle.values()];
  }

  byOperatorHandle(handle: string): ActiveRequest | undefined {
    return this.byHandle.get(handle);
  }

  get size(): number {
    return this.byHandle.size;
  }

  /** False once a shutdown has begun: every new request is refused with NOT_READY. */
  get accepting(): boolean {
    return this.acceptingNew;
  }

  refuseNew(): void {
    this.acceptingNew = false;
  }

  /** Resolves when no request is left, or after `timeoutMs`, whichever comes first (for a graceful shutdown). */
  async drained(timeoutMs: number): Promise<void> {
    if (this.size === 0) return;
    await firstValueFrom(merge(this.released.pipe(filter(() => this.size === 0)), timer(timeoutMs)));
  }

  /**
   * Cancels the requests `which` picks, in one session or (without a session
   * id) everywhere on this instance. Returns the requests this call stopped
   * (not those already stopping).
   */
  cancel(
    scope: { sessionId?: string; requestId?: string },
    cancellation: Cancellation,
    which: (request: ActiveRequest) => boolean = () => true,
  ): ActiveRequest[] {
    const { sessionId, requestId } = scope;
    const targets =
      sessionId === undefined ? this.list() : requestId === undefined ? this.listSession(sessionId) : [this.find(sessionId, requestId)];
    return targets.filter((request): request is ActiveRequest => request !== undefined && which(request) && request.cancel(cancellation));
  }
}
