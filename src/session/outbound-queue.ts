import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { WebSocket } from 'ws';
import type { OutboundFrame, QueuedRequest } from './outbound-frame.js';

/**
 * In the order they are sent:
 * - `urgent`: INTERRUPT_ACK, which overtakes everything, including the end
 *   frames of the requests its interrupt stopped;
 * - `control`: errors, tool cancellations, end frames of interrupted requests;
 * - `text`: text deltas, tool progress, small and wanted at once;
 * - `audio`: audio frames, and the end frame of a request that ran to its
 *   end (it must come after all of that request's frames).
 */
export type Lane = 'urgent' | 'control' | 'text' | 'audio';

const LANES: readonly Lane[] = ['urgent', 'control', 'text', 'audio'];

/** A socket the session's frames go to. */
export interface QueueSink {
  readonly socket: WebSocket;
}

/** What a queue sends for: its session. */
export interface QueueOwner<S extends QueueSink> {
  /** Numbers, records and renders a frame as it leaves. */
  deliver(frame: OutboundFrame): string | Uint8Array;
  /** The sockets holding the queue up past the hard limit. */
  overflowed(laggards: S[]): void;
}

/** What the frames an interrupt dropped would have told the client: the reply was not delivered past them. */
export interface DroppedFrames {
  /** text_stream_seq of the text deltas dropped. */
  textSeqs: number[];
  /** voice_stream_seq of the audio frames dropped. */
  voiceSeqs: number[];
}

export interface OutboundLimits {
  /** Above this many bytes buffered in a socket, the queue waits for it; above it waiting, producers pause. */
  highWaterBytes: number;
  /** Above this many bytes waiting, the sockets that hold the queue up are too slow: `onOverflow`. */
  hardLimitBytes: number;
}

/**
 * One queue per session, in front of all its sockets. Frames pushed in the
 * same tick are sent together at the end of it, in lane order, so an
 * INTERRUPT_ACK leaves before the end frames of the requests it stopped and
 * control frames overtake queued audio. A frame gets its sequence number as it
 * leaves (`deliver`), so the numbers follow the order on the wire, the same for
 * every socket of the session. No socket holds more than the high-water mark:
 * past it frames wait here, where `dropRequest()` can still discard an
 * interrupted request's frames, and `paused$` tells producers to stop reading
 * from their sources until the slowest socket has caught up.
 */
export class OutboundQueue<S extends QueueSink = QueueSink> {
  // What an idle session does not use is made on first use, and let go of when done with: an idle session costs little.
  /** Frames waiting, by lane; none while nothing waits. */
  private lanes?: Record<Lane, OutboundFrame[]>;
  /** Replaced, not changed, when a socket comes or goes (rarely): then it is no bigger than the sockets it holds. */
  private sinks: readonly S[] = [];
  /** Requests whose audio lane frames wait, in order, while the user speaks over them (barge-in). */
  private held?: Set<QueuedRequest>;
  private queuedBytes = 0;
  private flushScheduled = false;
  private blocked = false;
  private closed = false;
  private paused = false;
  /** Created on first use: most sessions never speak. */
  private pausedSubject?: BehaviorSubject<boolean>;
  private onWritten?: () => void;

  constructor(
    private readonly limits: OutboundLimits,
    private readonly owner: QueueOwner<S>,
  ) {}

  /** The sockets the frames go to. */
  get sinkList(): readonly S[] {
    return this.sinks;
  }

  addSink(sink: S): void {
    if (!this.sinks.includes(sink)) this.sinks = this.sinks.concat([sink]);
  }

  /** False when `sink` was not one of the queue's (any more). */
  removeSink(sink: S): boolean {
    const index = this.sinks.indexOf(sink);
    if (index < 0) return false;
    this.sinks = this.sinks.toSpliced(index, 1);
    // It may have been the one everyone waited for.
    if (this.blocked && !this.laggard()) {
      this.blocked = false;
      this.scheduleFlush();
    }
    this.updatePaused();
    return true;
  }

  push(frame: OutboundFrame, lane: Lane): void {
    if (this.closed) return;
    (this.lanes ??= { urgent: [], control: [], text: [], audio: [] })[lane].push(frame);
    this.queuedBytes += frame.size;
    if (this.waitingBytes > this.limits.hardLimitBytes) {
      // Only sockets that hold the queue up are to blame; a big frame alone is no reason to drop anyone.
      const laggards = this.sinks.filter((sink) => sink.socket.bufferedAmount >= this.limits.highWaterBytes);
      if (laggards.length > 0) {
        this.owner.overflowed(laggards);
        for (const sink of laggards) this.removeSink(sink);
      }
    }
    this.updatePaused();
    if (!this.blocked) this.scheduleFlush();
  }

  /**
   * Forgets the frames of a request that were queued but not yet sent — all
   * of them but its end frame (a request always gets exactly one), or only its
   * audio — and says what they carried.
   */
  dropRequest(request: QueuedRequest, only?: 'audio'): DroppedFrames {
    const dropped: DroppedFrames = { textSeqs: [], voiceSeqs: [] };
    const lanes = this.lanes;
    if (!lanes) return dropped;
    const drops = (frame: OutboundFrame) =>
      frame.request === request && frame.content?.kind !== 'end' && (only === undefined || frame.content?.kind === 'audio');
    for (const lane of only === 'audio' ? (['audio'] as const) : LANES) {
      const frames = lanes[lane];
      if (!frames.some(drops)) continue;
      lanes[lane] = frames.filter((frame) => {
        if (!drops(frame)) return true;
        this.queuedBytes -= frame.size;
        if (frame.content?.kind === 'text') dropped.textSeqs.push(frame.content.seq);
        else if (frame.content?.kind === 'audio') dropped.voiceSeqs.push(frame.content.seq);
        return false;
      });
    }
    this.updatePaused();
    return dropped;
  }

  /**
   * Keeps a request's audio lane (its audio, and the end frame that follows
   * it) here until `release`: nothing is lost, and the rest of the session's
   * frames go on. While held audio piles up past the high-water mark,
   * `paused$` stops synthesis as a slow socket would.
   */
  hold(request: QueuedRequest): void {
    (this.held ??= new Set()).add(request);
  }

  release(request: QueuedRequest): void {
    if (!this.held?.delete(request)) return;
    if (this.held.size === 0) this.held = undefined;
    this.updatePaused();
    if (!this.blocked) this.scheduleFlush();
  }

  /** The requests whose audio frames are still waiting here (a request may have ended while its audio waits for a slow client). */
  requestsWithQueuedAudio(): Set<QueuedRequest> {
    const requests = new Set<QueuedRequest>();
    for (const frame of this.lanes?.audio ?? []) if (frame.request && frame.content?.kind === 'audio') requests.add(frame.request);
    return requests;
  }

  /** Sends (with no socket: numbers and logs) what is queued, now rather than at the end of the tick. */
  flushNow(): void {
    if (this.blocked) this.blocked = false;
    this.flush();
  }

  /** True while the slowest socket is behind by more than the high-water mark; false again below half of it. */
  get paused$(): Observable<boolean> {
    this.pausedSubject ??= new BehaviorSubject(this.paused);
    return this.pausedSubject.pipe(distinctUntilChanged());
  }

  /** Sends nothing more and forgets what is queued. */
  close(): void {
    this.closed = true;
    this.held = undefined;
    this.lanes = undefined;
    this.queuedBytes = 0;
    this.sinks = [];
    this.pausedSubject?.complete();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  private get waitingBytes(): number {
    let buffered = 0;
    for (const sink of this.sinks) buffered = Math.max(buffered, sink.socket.bufferedAmount);
    return this.queuedBytes + buffered;
  }

  private laggard(): S | undefined {
    for (const sink of this.sinks) if (sink.socket.bufferedAmount >= this.limits.highWaterBytes) return sink;
    return undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private updatePaused(): void {
    if (this.closed) return;
    const waiting = this.waitingBytes;
    if (!this.paused && waiting >= this.limits.highWaterBytes) this.paused = true;
    else if (this.paused && waiting < this.limits.highWaterBytes / 2) this.paused = false;
    else return;
    this.pausedSubject?.next(this.paused);
  }

  private flush(): void {
    this.flushScheduled = false;
    const lanes = this.lanes;
    if (this.closed || !lanes) return;
    for (const lane of LANES) {
      const frames = lanes[lane];
      const kept: OutboundFrame[] = [];
      let next = 0;
      while (next < frames.length) {
        const frame = frames[next];
        if (lane === 'audio' && frame.request && this.held?.has(frame.request)) {
          kept.push(frame);
          next += 1;
          continue;
        }
        if (this.laggard()) {
          lanes[lane] = [...kept, ...frames.slice(next)];
          this.blocked = true;
          return;
        }
        next += 1;
        this.queuedBytes -= frame.size;
        const data = this.owner.deliver(frame);
        for (const sink of this.sinks) {
          if (sink.socket.readyState === sink.socket.OPEN) sink.socket.send(data, this.written);
        }
      }
      lanes[lane] = kept;
    }
    if (LANES.every((lane) => lanes[lane].length === 0)) this.lanes = undefined;
    this.updatePaused();
  }

  /**
   * A send's callback fires once its data has left the process: the moment
   * to resume a blocked queue and to tell producers they may go on. An event,
   * not a poll.
   */
  private get written(): () => void {
    return (this.onWritten ??= () => {
      this.updatePaused();
      if (this.blocked && !this.laggard()) {
        this.blocked = false;
        this.flush();
      }
    });
  }
}
