import type { Observable } from 'rxjs';

/**
 * Iterates an Observable with `for await`: values wait in a buffer until the
 * loop asks for them, an error is thrown into the loop, and leaving the loop
 * early (break, return, throw) unsubscribes.
 */
export function iterate<T>(source: Observable<T>): AsyncIterableIterator<T> {
  // Boxed, so that a buffered `undefined` is still a value.
  const buffered: { value: T }[] = [];
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  let failure: { error: unknown } | undefined;
  let done = false;

  const settle = (): void => {
    const waiter = waiting;
    if (!waiter) return;
    waiting = undefined;
    if (failure) waiter.reject(takeFailure(failure));
    else waiter.resolve({ value: undefined, done: true });
  };
  // The loop is told of an error once; after that the iterator is done.
  const takeFailure = ({ error }: { error: unknown }): unknown => {
    failure = undefined;
    done = true;
    return error;
  };

  const subscription = source.subscribe({
    next: (value) => {
      const waiter = waiting;
      if (!waiter) {
        buffered.push({ value });
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
    next: async () => {
      const next = buffered.shift();
      if (next) return { value: next.value, done: false };
      if (failure) throw takeFailure(failure);
      if (done) return { value: undefined, done: true };
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
