import { Injectable, type OnModuleInit } from '@nestjs/common';
import { filter, firstValueFrom, merge, type Observable, Subject, timer } from 'rxjs';
import { ClusterDirectory, type RequestRecord } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { GatewayError } from '../errors/gateway-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ActiveRequest, type Cancellation, type RequestOwner } from './active-request.js';

/**
 * Every active request, by session. Request ids are scoped to their session,
 * so one session can never reach another's request. With Redis, the requests
 * of sessions are mirrored in the shared directory (which instance runs
 * what), so that a stop reaching another instance finds them; the cancel
 * subjects stay here, with the pipelines they stop.
 */
@Injectable()
export class RequestRegistry implements OnModuleInit {
  private readonly bySession = new Map<string, Map<string, ActiveRequest>>();
  private readonly byHandle = new Map<string, ActiveRequest>();
  private readonly released = new Subject<ActiveRequest>();
  /** Every request as its pipeline ends. */
  readonly released$: Observable<ActiveRequest> = this.released.asObservable();
  /** Cleared once the gateway drains for a shutdown: what runs finishes, nothing new starts. */
  private accepting = true;

  constructor(
    private readonly directory: ClusterDirectory,
    private readonly cluster: ClusterService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.activeGauge(
      'gateway_active_requests',
      'Requests running on this instance, by transport',
      () => {
        const counts: Record<string, number> = { ws: 0, http: 0 };
        for (const request of this.byHandle.values()) counts[request.owner.transport] = (counts[request.owner.transport] ?? 0) + 1;
        return counts;
      },
      'transport',
    );
    // Redis may have lost everything while it was away: what runs here is written again.
    if (this.cluster.enabled) {
      this.cluster.reconnected$.subscribe(() => this.directory.replaceRequests(this.list().flatMap((request) => this.recordOf(request) ?? [])));
    }
  }

  /** Throws NOT_READY, DUPLICATE_REQUEST or TOO_MANY_REQUESTS; the caller must `release()` it when its pipeline ends. */
  register(requestId: string, owner: RequestOwner, maxPerSession: number, durable = false): ActiveRequest {
    if (!this.accepting) throw new GatewayError('NOT_READY', { requestId });
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
    this.mirror(request);
    return request;
  }

  release(request: ActiveRequest): void {
    const session = this.bySession.get(request.owner.sessionId);
    if (session?.get(request.id) !== request) return;
    session.delete(request.id);
    this.byHandle.delete(request.handle);
    if (session.size === 0) this.bySession.delete(request.owner.sessionId);
    if (request.owner.transport === 'ws') this.directory.dropRequest(request.owner.sessionId, request.id);
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

  /** From now on every new request is refused with NOT_READY (a shutdown has begun). */
  refuseNew(): void {
    this.accepting = false;
  }

  /** Resolves when no request is left, or after `timeoutMs`, whichever comes first (for a graceful shutdown). */
  async drained(timeoutMs: number): Promise<void> {
    if (this.size === 0) return;
    await firstValueFrom(merge(this.released.pipe(filter(() => this.size === 0)), timer(timeoutMs)));
  }

  /**
   * Cancels one request of a session, or all of them when no id is given.
   * Returns the requests this call stopped (not those already stopping).
   */
  cancel(
    sessionId: string,
    requestId: string | undefined,
    cancellation: Cancellation,
    which: (request: ActiveRequest) => boolean = () => true,
  ): ActiveRequest[] {
    const targets = requestId === undefined ? this.listSession(sessionId) : [this.find(sessionId, requestId)];
    return targets.filter((request): request is ActiveRequest => request !== undefined && which(request) && request.cancel(cancellation));
  }

  /** Requests of sessions (not one-off HTTP calls, which die with their connection) are found by other instances. */
  private mirror(request: ActiveRequest): void {
    const record = this.recordOf(request);
    if (record) this.directory.putRequest(record);
  }

  /** What other instances know of a request: a session's (a socket's or a task's); an HTTP completion dies with its connection. */
  private recordOf(request: ActiveRequest): RequestRecord | undefined {
    if (request.owner.transport !== 'ws') return undefined;
    return {
      session_id: request.owner.sessionId,
      request_id: request.id,
      user_id: request.owner.userId,
      durable: request.durable,
      transport: request.owner.transport,
      started_at: request.startedAtMs,
    };
  }

  /** Everything of one API key's identity, in all its sessions, tasks and HTTP requests. */
  cancelUser(userId: string, cancellation: Cancellation): ActiveRequest[] {
    return this.list().filter((request) => request.owner.userId === userId && request.cancel(cancellation));
  }
}
