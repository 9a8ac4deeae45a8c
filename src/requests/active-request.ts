import { randomUUID } from 'node:crypto';
import { AsyncSubject, type Observable } from 'rxjs';
import { since } from '../common/since.js';
import type { Transport } from '../common/transport.js';
import { UsageMeter } from '../llm/usage-meter.js';

export type CancelSource = 'client' | 'voice' | 'disconnect' | 'operator' | 'shutdown' | 'expired';

export interface Cancellation {
  reason: string;
  source: CancelSource;
  /** `performance.now()` when the stop was received, to log how long the teardown took. */
  receivedAt: number;
}

export interface RequestOwner {
  sessionId: string;
  /** The API key's identity. */
  userId: string;
  /** The key's name, when it has one (usage records and metrics show it; otherwise the userId). */
  keyName?: string;
  transport: Transport;
  /** The API the client spoke (`ws`, `openai-chat`, `anthropic-messages`…), for usage records. */
  api?: string;
  /** The model the client asked for, by its name. */
  model?: string;
}

/**
 * One request in flight. Its pipeline ends with `takeUntil(cancelled$)`;
 * `cancel()` completes that subject once, which unsubscribes the pipeline and,
 * through it, aborts the upstream call.
 */
export class ActiveRequest {
  /** Unique across sessions, for operators (`/v1/requests/:handle/cancel`); request ids are only unique in their session. */
  readonly handle = `req_${randomUUID()}`;
  readonly startedAt = performance.now();
  readonly startedAtMs = Date.now();
  readonly usage = new UsageMeter();
  /** An AsyncSubject replays its value to late subscribers, so a stage started after the cancel never runs. */
  private readonly cancelSubject = new AsyncSubject<Cancellation>();
  readonly cancelled$: Observable<Cancellation> = this.cancelSubject.asObservable();
  private cancellationValue?: Cancellation;
  private upstreamClosedAfter?: number;
  private failedValue = false;

  constructor(
    readonly id: string,
    readonly owner: RequestOwner,
    /** Keeps running when its session's last socket closes (until the session expires). */
    readonly durable = false,
  ) {}

  get cancellation(): Cancellation | undefined {
    return this.cancellationValue;
  }

  /** Milliseconds from the cancel being received to the model stream's abort, once that happened (for the INTERRUPT_ACK). */
  get upstreamClosedMs(): number | undefined {
    return this.upstreamClosedAfter;
  }

  /** It ended with an error (the provider's, or the gateway's): its usage record says so. */
  get failed(): boolean {
    return this.failedValue;
  }

  markFailed(): void {
    this.failedValue = true;
  }

  /** Returns false when the request was already cancelled: the first reason wins. */
  cancel(cancellation: Cancellation): boolean {
    if (this.cancellationValue) return false;
    this.cancellationValue = cancellation;
    this.cancelSubject.next(cancellation);
    this.cancelSubject.complete();
    return true;
  }

  /** The model stream was just torn down; after a cancel, returns how long that took. */
  upstreamClosed(): number | undefined {
    if (!this.cancellationValue) return undefined;
    this.upstreamClosedAfter = since(this.cancellationValue.receivedAt);
    return this.upstreamClosedAfter;
  }
}
