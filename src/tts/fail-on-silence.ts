import { combineLatest, type MonoTypeOperatorFunction, NEVER, Observable, startWith, Subject, switchMap, timer } from 'rxjs';

export interface SilenceLimit {
  /** The longest silence: until the first value, and between two values. */
  ms: number;
  /** While true the client is behind and the provider does not read: a silence then is not the engine's, and does not count. */
  paused$: Observable<boolean>;
  error: () => Error;
}

/**
 * Fails a speech synthesis that goes silent. The clock runs only while
 * `paused$` is false; it starts afresh on every value and on every resume.
 * Failing unsubscribes the source, which tears the synthesis down.
 */
export function failOnSilence<T>({ ms, paused$, error }: SilenceLimit): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const values = new Subject<void>();
      const silence = combineLatest([paused$, values.pipe(startWith(undefined))])
        .pipe(switchMap(([paused]) => (paused ? NEVER : timer(ms))))
        .subscribe(() => subscriber.error(error()));
      const subscription = source.subscribe({
        next: (value) => {
          values.next();
          subscriber.next(value);
        },
        error: (cause: unknown) => subscriber.error(cause),
        complete: () => subscriber.complete(),
      });
      return () => {
        silence.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
