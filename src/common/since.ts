/** Milliseconds since a `performance.now()`, to the microsecond: the latencies the logs report. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}
