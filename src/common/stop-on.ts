import { type MonoTypeOperatorFunction, Observable, type ObservableInput, from, Subscription } from 'rxjs';

/**
 * `takeUntil`, with the source let go before the subscriber hears the end.
 * takeUntil completes downstream first and unsubscribes after, so a stop's
 * bookkeeping (the end frame, the history, the usage counted) ran before the
 * provider's connection was cut; here the cut comes first, in the same tick,
 * and everything else after it.
 */
export function stopOn<T>(notifier: ObservableInput<unknown>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const upstream = new Subscription();
      const stop = from(notifier).subscribe(() => {
        upstream.unsubscribe();
        subscriber.complete();
      });
      // Stopped before it began: the source is never subscribed, as with takeUntil.
      if (!subscriber.closed) {
        upstream.add(
          source.subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => subscriber.error(error),
            complete: () => subscriber.complete(),
          }),
        );
      }
      return () => {
        stop.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
