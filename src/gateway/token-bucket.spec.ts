import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at its rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 100; // one token at 10/s
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000; // never more than the burst
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  it('charges messages as of their arrival, however late they are handled', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    // Ten messages 100 ms apart, all handled a second later: each had its token when it came.
    now = 1000;
    expect(Array.from({ length: 10 }, (_, i) => bucket.take(i * 100))).toEqual(Array(10).fill(true));
    // Five at once are five at once, whenever they are handled.
    expect([1000, 1000, 1000, 1000, 1000].map((at) => bucket.take(at))).toEqual([true, true, false, false, false]);
  });

  it('is full until its first message, however long ago it was made', () => {
    let now = 0;
    const early = new TokenBucket(10, 2, () => now);
    now = 5_000;
    const late = new TokenBucket(10, 2, () => now);
    // Made at once or on its first message, charged as of the same arrivals: the same answers.
    const arrivals = [1000, 1000, 1000, 1100, 1100, 1300];
    expect(arrivals.map((at) => late.take(at))).toEqual(arrivals.map((at) => early.take(at)));
    expect(arrivals.map((at) => late.take(at + 1000))).toEqual([true, true, false, true, false, true]);
  });
});
