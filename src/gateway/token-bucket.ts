const monotonicNow = (): number => performance.now();

/** Messages a client may send: `burst` at once, refilled at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  /** Unset until the first message: a bucket nothing was taken from is full, however long ago it was made. */
  private refilledAt?: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = burst;
  }

  /** Spends a token as of `at` (by default now): a message is charged as of its arrival, whenever it is handled. */
  take(at = this.now()): boolean {
    // Charged in arrival order; never before the last refill (none before the first message).
    const refilledAt = this.refilledAt ?? at;
    const now = Math.max(at, refilledAt);
    this.tokens = Math.min(this.burst, this.tokens + ((now - refilledAt) / 1000) * this.ratePerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
