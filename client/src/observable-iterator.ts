import type { Observable } from 'rxjs';

/**
 * Iterates an Observable with `for await`: values wait in a buffer until the
 * loop asks for them, an error is thrown into the loop, and leaving the loop
 * early (break, return, throw) unsubscribes.
 */
export function iterate<T>(source: Observable<T>): AsyncIterableIterator<T> {
  const buffered: T[] = [];
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  let failure: { error: unknown } | undefined;
  let done = false;

  const settle = (): void => {
    const waiter = waiting;
    if (!waiter) return;
    waiting = undefined;
    if (failure) waiter.reject(takeFailure());
    else waiter.resolve({ value: undefined, done: true });
  };
  const takeFailure = (): unknown => {
    const { error } = failure!;
    failure = undefined;
    done = true;
    return error;
  };

  const subscription = source.subscribe({
    next: (value) => {
      const waiter = waiting;
      if (!waiter) {
        buffered.push(value);
        return;
      }
      waiting = undefined;
      waiter.resolve({ value, done: false });
    },
    error: (error: unknown) => {
      failure = { error };
      settle();
    },
    complete: () => {
      done = true;
      settle();
    },
  });

  return {
    next: () => {
      if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
      if (failure) return Promise.reject(takeFailure());
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return: () => {
      subscription.unsubscribe();
      done = true;
      buffered.length = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
