export interface BackoffOptions {
  /** The pause before the first reconnect attempt. */
  initialDelayMs: number;
  /** The longest pause between attempts. */
  maxDelayMs: number;
}

/** 250 ms, doubling up to 5 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 5_000 };

/**
 * Exponential, with jitter so that the clients of a restarted gateway do not
 * all come back in the same instant.
 */
export function backoffDelay(attempt: number, { initialDelayMs, maxDelayMs }: BackoffOptions): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
