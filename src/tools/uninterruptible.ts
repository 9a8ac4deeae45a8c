import { BehaviorSubject, concat, defer, EMPTY, filter, finalize, map, type Observable, switchMap, take } from 'rxjs';

/**
 * The work of one request that a stop must wait for: a tool declared not
 * cancellable (a payment, say) runs to its end, its result goes into the
 * history, and only then does the stop tear the request down. Everything
 * else stops at once.
 */
export class Uninterruptible {
  private readonly running = new BehaviorSubject(0);

  /** `work$` counts as running from its subscription to its end (or its teardown, were it torn down after all). */
  guard<T>(work$: Observable<T>): Observable<T> {
    return defer(() => {
      let done = false;
      const leave = () => {
        if (done) return;
        done = true;
        this.running.next(this.running.value - 1);
      };
      this.running.next(this.running.value + 1);
      // Left after its last value reached the subscriber (the turn has recorded it), before anything after it starts.
      const leaving$ = defer(() => {
        leave();
        return EMPTY;
      });
      return concat(work$, leaving$).pipe(finalize(leave));
    });
  }

  /** `stop$`, held back while guarded work runs. */
  deferStop<T>(stop$: Observable<T>): Observable<T> {
    return stop$.pipe(
      switchMap((value) =>
        this.running.pipe(
          filter((count) => count === 0),
          take(1),
          map(() => value),
        ),
      ),
    );
  }
}
