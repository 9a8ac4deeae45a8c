/**
 * A streamed answer's frames, written to the socket once per burst: one
 * upstream read often holds several events, and each write costs a syscall
 * and a chunked-encoding header of its own. The burst ends in the same turn
 * of the event loop (a microtask), so no frame waits for a timer.
 */
export class FrameBatch {
  private pending = '';
  private queued = false;

  constructor(private readonly write: (data: string) => void) {}

  add(frame: string): void {
    this.pending += frame;
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes what is pending now: before the answer's last write (its end, an error), which must come after it. */
  flush(): void {
    this.queued = false;
    if (this.pending === '') return;
    const data = this.pending;
    this.pending = '';
    this.write(data);
  }
}
