import { firstValueFrom, Observable, takeUntil, throwError, throwIfEmpty, timeout } from 'rxjs';
import type { ServerEnvelope, ServerMsgType, ServerPayloads } from '@agent-gateway/protocol';
import { AckTimeoutError, ClientClosedError } from '../errors.js';

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

  constructor(
    private readonly timeoutMs: number,
    private readonly closing$: Observable<void>,
  ) {}

  /**
   * Resolves with the answer to a message about to be sent; rejects with
   * AckTimeoutError when none comes in time, or ClientClosedError when the
   * client closes first.
   */
  wait<T extends ServerMsgType>(type: T, matches: (payload: ServerPayloads[T]) => boolean = () => true): Promise<ServerPayloads[T]> {
    const answer = new Observable<ServerPayloads[T]>((subscriber) => {
      const waiter: Waiter = {
        type,
        matches,
        deliver: (payload: ServerPayloads[T]) => {
          subscriber.next(payload);
          subscriber.complete();
        },
      };
      this.waiters.push(waiter);
      return () => (this.waiters = this.waiters.filter((w) => w !== waiter));
    });
    return firstValueFrom(
      answer.pipe(
        timeout({ first: this.timeoutMs, with: () => throwError(() => new AckTimeoutError(type, this.timeoutMs)) }),
        takeUntil(this.closing$),
        throwIfEmpty(() => new ClientClosedError()),
      ),
    );
  }

  /** Returns false for an answer nobody waits for (any more): `messages$` still shows it. */
  answer(envelope: ServerEnvelope): boolean {
    const payload = envelope.payload as never;
    const waiter = this.waiters.find((w) => w.type === envelope.msg_type && w.matches(payload));
    if (!waiter) return false;
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.deliver(payload);
    return true;
  }
}
