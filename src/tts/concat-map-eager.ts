import { Observable, type OperatorFunction, type Subscription } from 'rxjs';

interface Inner<R> {
  buffer: R[];
  done: boolean;
  subscription?: Subscription;
}

/**
 * `concatMap` that subscribes up to `lookahead` inner Observables ahead of
 * the one being emitted: segment n+1 is synthesized while segment n is still
 * streaming out, but their values come out strictly in order. Values of an
 * inner that is ahead wait in its buffer. Unsubscribing tears every inner
 * down at once, and nothing starts after that.
 */
export function concatMapEager<T, R>(project: (value: T, index: number) => Observable<R>, lookahead: number): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const active: Inner<R>[] = [];
      const waiting: T[] = [];
      let index = 0;
      let sourceDone = false;
      // Set by the teardown. A value emitted below may make the consumer
      // unsubscribe in the middle of a loop here; the loop must not go on to
      // start inners that nothing would ever tear down.
      let closed = false;

      const startWaiting = () => {
        while (!closed && active.length <= lookahead && waiting.length > 0) start(waiting.shift() as T);
      };
      // Emits what the head inner buffered; moves on to the next while heads are done.
      const advance = () => {
        while (!closed && active.length > 0) {
          const head = active[0];
          for (const value of head.buffer.splice(0)) {
            subscriber.next(value);
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- next() may run the teardown, which sets it
            if (closed) return;
          }
          if (!head.done) return;
          active.shift();
          startWaiting();
        }
        if (!closed && sourceDone && waiting.length === 0) subscriber.complete();
      };
      const start = (value: T) => {
        const inner: Inner<R> = { buffer: [], done: false };
        active.push(inner);
        const subscription = project(value, index++).subscribe({
          next: (result) => {
            if (active[0] === inner) subscriber.next(result);
            else inner.buffer.push(result);
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            inner.done = true;
            if (active[0] === inner) advance();
          },
        });
        // Torn down while it was subscribing (a value it emitted at once ended everything): it was missed by the teardown.
        if (closed) subscription.unsubscribe();
        else inner.subscription = subscription;
      };

      const sourceSubscription = source.subscribe({
        next: (value) => {
          waiting.push(value);
          startWaiting();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          if (active.length === 0) advance();
        },
      });
      return () => {
        closed = true;
        waiting.length = 0;
        sourceSubscription.unsubscribe();
        for (const inner of active.splice(0)) inner.subscription?.unsubscribe();
      };
    });
}
