import { AsyncSubject, finalize, NEVER, Observable, of, Subject } from 'rxjs';
import { stopOn } from './stop-on.js';

describe('stopOn', () => {
  it('tears the source down before the subscriber hears it complete', () => {
    const order: string[] = [];
    const stop = new AsyncSubject<void>();
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      return () => order.push('source torn down');
    });
    source.pipe(stopOn(stop)).subscribe({ next: (n) => order.push(`next ${n}`), complete: () => order.push('complete') });
    stop.next();
    stop.complete();
    expect(order).toEqual(['next 1', 'source torn down', 'complete']);
  });

  it('never subscribes to the source when the stop came first', () => {
    let subscribed = false;
    const source = new Observable(() => {
      subscribed = true;
    });
    let completed = 0;
    source.pipe(stopOn(of(true))).subscribe({ complete: () => (completed += 1) });
    expect(subscribed).toBe(false);
    expect(completed).toBe(1);
  });

  it('passes values, errors and the end of the source on, and lets go of the notifier', () => {
    const stop = new Subject<void>();
    const seen: unknown[] = [];
    of(1, 2)
      .pipe(stopOn(stop))
      .subscribe({ next: (n) => seen.push(n), complete: () => seen.push('complete') });
    expect(seen).toEqual([1, 2, 'complete']);
    expect(stop.observed).toBe(false);
    const failure = new Error('upstream failed');
    const errors: unknown[] = [];
    new Observable((subscriber) => subscriber.error(failure))
      .pipe(stopOn(stop))
      .subscribe({ error: (error: unknown) => errors.push(error) });
    expect(errors).toEqual([failure]);
    expect(stop.observed).toBe(false);
  });

  it('tears the source down when unsubscribed, and then ignores the stop', () => {
    const stop = new Subject<void>();
    let tornDown = 0;
    let completed = 0;
    const subscription = NEVER.pipe(
      finalize(() => (tornDown += 1)),
      stopOn(stop),
    ).subscribe({ complete: () => (completed += 1) });
    subscription.unsubscribe();
    stop.next();
    expect(tornDown).toBe(1);
    expect(completed).toBe(0);
  });
});
