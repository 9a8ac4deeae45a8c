import { Observable, throwError, timeout } from 'rxjs';
import type { ServerEnvelope, ServerMsgType, ServerPayloads } from '@agent-gateway/protocol';
import { AckTimeoutError } from './errors.js';

interface Waiter {
  type: ServerMsgType;
  matches: (payload: never) => boolean;
  deliver: (payload: never) => void;
}

/**
 * Messages waiting for their answer (INTERRUPT_ACK, HISTORY, RESET_ACK).
 * The gateway answers messages of a kind in the order they were sent, so each
 * answer goes to the oldest waiter it matches.
 */
export class AnswerWaiters {
  private waiters: Waiter[] = [];

  /**
   * Emits the answer and completes, or errors with AckTimeoutError after
   * `timeoutMs`. Unsubscribing stops the wait.
   */
  wait<T extends ServerMsgType>(
    type: T,
    timeoutMs: number,
    matches: (payload: ServerPayloads[T]) => boolean = () => true,
  ): Observable<ServerPayloads[T]> {
    return new Observable<ServerPayloads[T]>((subscriber) => {
      const waiter: Waiter = {
        type,
        matches: matches,
        deliver: ((payload: ServerPayloads[T]) => {
          subscriber.next(payload);
          subscriber.complete();
        }),
      };
      this.waiters.push(waiter);
      return () => (this.waiters = this.waiters.filter((w) => w !== waiter));
    }).pipe(timeout({ first: timeoutMs, with: () => throwError(() => new AckTimeoutError(type, timeoutMs)) }));
  }

  /** Returns false when nobody waited for it. */
  answer(envelope: ServerEnvelope): boolean {
    const payload = envelope.payload as never;
    const waiter = this.waiters.find((w) => w.type === envelope.msg_type && w.matches(payload));
    if (!waiter) return false;
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.deliver(payload);
    return true;
  }
}
