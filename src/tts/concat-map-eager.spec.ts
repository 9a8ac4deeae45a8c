import { EMPTY, Observable, Subject, concat, lastValueFrom, of, take, toArray } from 'rxjs';
import { concatMapEager } from './concat-map-eager.js';

/** An inner Observable we drive by hand, recording whether it is subscribed. */
class Controlled {
  readonly values = new Subject<string>();
  subscribed = false;
  unsubscribed = false;
  readonly observable = new Observable<string>((subscriber) => {
    this.subscribed = true;
    const subscription = this.values.subscribe(subscriber);
    return () => {
      this.unsubscribed = true;
      subscription.unsubscribe();
    };
  });
}

describe('concatMapEager', () => {
  it('keeps order while running `lookahead` inners ahead', () => {
    const inners = [new Controlled(), new Controlled(), new Controlled()];
    const source = new Subject<number>();
    const seen: string[] = [];
    let completed = false;
    source.pipe(concatMapEager((i: number) => inners[i].observable, 1)).subscribe({
      next: (v) => seen.push(v),
      complete: () => (completed = true),
    });
    source.next(0);
    source.next(1);
    source.next(2);
    source.complete();
    expect(inners.map((c) => c.subscribed)).toEqual([true, true, false]);

    inners[1].values.next('b1'); // ahead: buffered
    inners[0].values.next('a1');
    expect(seen).toEqual(['a1']);
    inners[1].values.complete(); // done while waiting
    inners[0].values.complete();
    expect(seen).toEqual(['a1', 'b1']);
    expect(inners[2].subscribed).toBe(true);
    inners[2].values.next('c1');
    inners[2].values.complete();
    expect(seen).toEqual(['a1', 'b1', 'c1']);
    expect(completed).toBe(true);
  });

  it('behaves as concatMap with no look-ahead', async () => {
    const result = await lastValueFrom(
      of(1, 2, 3).pipe(
        concatMapEager((n) => of(n, n * 10), 0),
        toArray(),
      ),
    );
    expect(result).toEqual([1, 10, 2, 20, 3, 30]);
  });

  it('completes at once for an empty source', async () => {
    expect(
      await lastValueFrom(
        (EMPTY as Observable<number>).pipe(
          concatMapEager((n) => of(n), 2),
          toArray(),
        ),
      ),
    ).toEqual([]);
  });

  it('tears every running inner down when unsubscribed', () => {
    const inners = [new Controlled(), new Controlled()];
    const source = new Subject<number>();
    const subscription = source.pipe(concatMapEager((i: number) => inners[i].observable, 1)).subscribe();
    source.next(0);
    source.next(1);
    subscription.unsubscribe();
    expect(inners.map((c) => c.unsubscribed)).toEqual([true, true]);
    expect(source.observed).toBe(false);
  });

  it('starts nothing once the consumer unsubscribes in the middle of moving on to the next inner', () => {
    const inners = [new Controlled(), new Controlled(), new Controlled(), new Controlled()];
    const source = new Subject<number>();
    const seen: string[] = [];
    source
      .pipe(
        concatMapEager((i: number) => inners[i].observable, 1),
        take(1),
      )
      .subscribe((v) => seen.push(v));
    for (const i of [0, 1, 2, 3]) source.next(i);
    inners[1].values.next('b1'); // ahead: buffered
    inners[1].values.complete();
    // The head completes: inner 2 starts, b1 comes out, and take(1) unsubscribes right there.
    inners[0].values.complete();
    expect(seen).toEqual(['b1']);
    expect(inners[3].subscribed).toBe(false);
    // Whatever did start is torn down (the first two by their completion).
    expect(inners.map((c) => [c.subscribed, c.unsubscribed])).toEqual([
      [true, true],
      [true, true],
      [true, true],
      [false, false],
    ]);
  });

  it('tears down an inner that ended everything while it was still subscribing', () => {
    const rest = new Controlled();
    const source = new Subject<number>();
    source
      .pipe(
        concatMapEager(() => concat(of('first'), rest.observable), 0),
        take(1),
      )
      .subscribe();
    source.next(0);
    expect(rest.subscribed).toBe(true);
    expect(rest.unsubscribed).toBe(true);
  });

  it('forwards the first error and stops the others', () => {
    const inners = [new Controlled(), new Controlled()];
    const source = new Subject<number>();
    let error: unknown;
    source.pipe(concatMapEager((i: number) => inners[i].observable, 1)).subscribe({ error: (e: unknown) => (error = e) });
    source.next(0);
    source.next(1);
    inners[1].values.error(new Error('boom'));
    expect((error as Error).message).toBe('boom');
    expect(inners[0].unsubscribed).toBe(true);
  });
});
