import { type Observable, Subject } from 'rxjs';
import type { ClientPayloads, InterruptAckPayload } from '@agent-gateway/protocol';
import type { InterruptOptions } from '../client-options.js';
import type { AnswerWaiters } from './answer-waiters.js';
import type { InterruptOutcome } from './reply.js';
import type { ReplyBook } from './reply-book.js';
import type { ReplyChannel } from './reply-channel.js';

/** One INTERRUPT and what came of it, as `interrupts$` tells it. */
export type InterruptReport = {
  /** The request named, or null for all of them. */
  requestId: string | null;
  reason: string;
  /** The replies the client stopped locally when it sent the INTERRUPT. */
  stopped: string[];
} & ({ outcome: InterruptOutcome } | { error: Error });

/**
 * INTERRUPTs, sent optimistically: the replies they stop are stopped here
 * before the INTERRUPT goes out, and the ACK only confirms. Each is reported
 * once it is acknowledged or has failed.
 */
export class Interrupts {
  private readonly reportsSubject = new Subject<InterruptReport>();
  readonly reports$: Observable<InterruptReport> = this.reportsSubject.asObservable();
  private readonly byGatewaySubject = new Subject<InterruptAckPayload>();
  /** INTERRUPT_ACKs that no INTERRUPT of this client waits for: the gateway stopped replies itself (the user spoke over them), or another socket of the session did. */
  readonly byGateway$: Observable<InterruptAckPayload> = this.byGatewaySubject.asObservable();

  constructor(
    private readonly replies: ReplyBook,
    private readonly answers: AnswerWaiters,
    /** Urgent: ahead of what else waits for a connection. */
    private readonly send: (payload: ClientPayloads['INTERRUPT']) => void,
  ) {}

  /** See GatewayClient.interrupt(). */
  interrupt(requestId?: string, { reason = 'USER_INTERRUPT', scope }: InterruptOptions = {}): Promise<InterruptOutcome> {
    // The gateway would refuse it, and the refusal cannot tell which INTERRUPT it answers.
    if (scope === 'request' && requestId === undefined) return Promise.reject(new Error('scope "request" needs a request id'));
    const one = requestId !== undefined && (scope ?? 'request') === 'request';
    const { stopped, playedUntil } = this.replies.stop(one ? requestId : undefined, reason);

    const sentAt = performance.now();
    const outcome = this.answers
      .wait('INTERRUPT_ACK', (ack) => ack.interrupt_request_id === (requestId ?? null) && ack.reason === reason)
      .then((ack): InterruptOutcome => ({ ack, ackMs: performance.now() - sentAt }));
    this.send({
      ...(requestId !== undefined && { interrupt_request_id: requestId }),
      reason,
      ...(scope !== undefined && { scope }),
      ...(playedUntil && { played_until: playedUntil }),
    });
    const report = { requestId: requestId ?? null, reason, stopped };
    outcome.then(
      (result) => this.reportsSubject.next({ ...report, outcome: result }),
      // AnswerWaiters fails with its own errors only (AckTimeoutError, ClientClosedError).
      (error: unknown) => this.reportsSubject.next({ ...report, error: error as Error }),
    );
    return outcome;
  }

  /** One INTERRUPT for each reply still running, so that each carries where its own audio stopped. */
  all(reason: string): Promise<InterruptOutcome[]> {
    return Promise.all(this.replies.unstopped().map((requestId) => this.interrupt(requestId, { reason })));
  }

  /**
   * The gateway stopped these replies without being asked here (the user's
   * speech barged in, reason USER_SPEECH): they stop here too, frames and
   * audio, as if interrupt() had been called; their end frames follow.
   */
  stoppedByGateway(ack: InterruptAckPayload): void {
    for (const requestId of ack.interrupted_request_ids) this.replies.stop(requestId, ack.reason);
    this.byGatewaySubject.next(ack);
  }

  /** After RESUME: the user stopped these while the connection was down, and the gateway never heard. */
  repeat(unheard: readonly ReplyChannel[]): void {
    for (const channel of unheard) this.send({ interrupt_request_id: channel.requestId, reason: channel.interruptReason });
  }
}
