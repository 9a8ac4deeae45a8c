import { type Observable, Subject } from 'rxjs';

export interface LoggedFrame {
  seq: number;
  data: string | Uint8Array;
  /** Bytes on the wire, which EVENT_LOG_MAX_BYTES counts. */
  size: number;
  /** `Date.now()` when it was sent. */
  at: number;
}

export interface EventLogLimits {
  maxFrames: number;
  maxBytes: number;
  maxAgeMs: number;
}

/**
 * The frames a session sent, by sequence number, bounded in count, bytes and
 * age (the oldest go first, checked as frames are added: no timer). RESUME
 * replays what came after a client's last frame; REST tasks read from it.
 */
export class EventLog {
  /** None until the first frame: most sessions idle. */
  private frames?: LoggedFrame[];
  private head = 0;
  private bytes = 0;
  private last = 0;
  private appendedSubject?: Subject<LoggedFrame>;

  constructor(
    private readonly limits: EventLogLimits,
    firstSeq = 0,
  ) {
    this.last = firstSeq;
  }

  append(seq: number, data: string | Uint8Array, size: number): LoggedFrame {
    const frame: LoggedFrame = { seq, data, size, at: Date.now() };
    const frames = (this.frames ??= []);
    frames.push(frame);
    this.bytes += size;
    this.last = seq;
    this.evict(frames, frame.at);
    this.appendedSubject?.next(frame);
    return frame;
  }

  /** Forgets every frame; numbering goes on after `lastSeq` (frames before it are a gap for RESUME). */
  restart(lastSeq: number): void {
    this.frames = undefined;
    this.head = 0;
    this.bytes = 0;
    this.last = lastSeq;
  }

  /** The latest sequence number sent (0 before any). */
  get lastSeq(): number {
    return this.last;
  }

  /** Frames after `seq`, in order; `gap` when some of them are no longer kept. */
  since(seq: number): { frames: LoggedFrame[]; gap: boolean } {
    const kept = this.frames?.slice(this.head) ?? [];
    const oldest = kept[0]?.seq ?? this.last + 1;
    return { frames: kept.filter((frame) => frame.seq > seq), gap: seq + 1 < oldest && seq < this.last };
  }

  /** Every frame as it is logged. */
  get appended$(): Observable<LoggedFrame> {
    return (this.appendedSubject ??= new Subject<LoggedFrame>());
  }

  close(): void {
    this.appendedSubject?.complete();
  }

  private evict(frames: LoggedFrame[], now: number): void {
    const { maxFrames, maxBytes, maxAgeMs } = this.limits;
    while (this.head < frames.length - 1) {
      const oldest = frames[this.head];
      const count = frames.length - this.head;
      if (count <= maxFrames && this.bytes <= maxBytes && now - oldest.at <= maxAgeMs) break;
      this.bytes -= oldest.size;
      this.head += 1;
    }
    // Compact now and then rather than shifting on every eviction.
    if (this.head > 1024 && this.head * 2 > frames.length) {
      this.frames = frames.slice(this.head);
      this.head = 0;
    }
  }
}
