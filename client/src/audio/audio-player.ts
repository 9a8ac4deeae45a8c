import { catchError, concatMap, EMPTY, from, map, type Observable, of, Subject } from 'rxjs';
import type { AudioChunk } from './audio-chunk.js';
import type { AudioSink, PlaybackReport, PlayedPosition } from './audio-sink.js';
import { pcm16ToChannels } from './pcm.js';

export interface AudioPlayerOptions {
  /** The context to play into; by default the player makes one on first use. */
  context?: AudioContext;
  /** How far ahead of now a frame is scheduled when nothing is playing, so that it starts without a click. */
  leadMs?: number;
}

interface Queued {
  /** Enqueue order, for stopAll() to drop what is still being decoded. */
  order: number;
  requestId: string;
  chunk: AudioChunk;
}

/** A decoded frame, from `offset` seconds into it (past 0 for the frame a pause cut short). */
interface Decoded {
  requestId: string;
  voiceStreamSeq: number;
  buffer: AudioBuffer;
  offset: number;
}

interface Scheduled extends Decoded {
  source: AudioBufferSourceNode;
  /** In the context's clock (seconds): when the frame's audio from `offset` on starts. */
  startsAt: number;
}

/**
 * Plays replies' audio in the browser with Web Audio, gaplessly, in the order
 * it was queued: PCM as it comes, compressed formats through
 * decodeAudioData (each frame must decode on its own; MP3 frames do). Frames
 * are scheduled back to back on the context's clock, so stopping is
 * instantaneous and the position at any moment is exact.
 *
 * A request's audio can be paused (the user started speaking over it) and
 * resumed where it paused (it was no interruption): the frame playing is cut
 * at the pause and played on from that very sample; frames that arrive
 * meanwhile wait behind it. A frame that comes twice is played once.
 */
export class AudioPlayer implements AudioSink {
  private readonly reports = new Subject<PlaybackReport>();
  readonly played$: Observable<PlaybackReport> = this.reports.asObservable();
  private readonly incoming = new Subject<Queued>();
  private scheduled: Scheduled[] = [];
  /** Per request: every frame before this one has been played. */
  private readonly playedThrough = new Map<string, number>();
  private readonly stopped = new Set<string>();
  /** Paused requests, and their audio waiting to be played, in order. */
  private readonly paused = new Map<string, Decoded[]>();
  /** Per request: the last voice_stream_seq taken, so that one sent again is not played twice. */
  private readonly takenThrough = new Map<string, number>();
  private enqueued = 0;
  private dropUpTo = -1;
  private endsAt = 0;
  private contextValue?: AudioContext;
  private unlocked = false;
  private readonly leadSeconds: number;

  constructor(options: AudioPlayerOptions = {}) {
    this.contextValue = options.context;
    this.leadSeconds = (options.leadMs ?? 60) / 1000;
    // One at a time, so that an asynchronous decode never lets a later frame overtake.
    this.incoming
      .pipe(concatMap((queued) => this.decode(queued.chunk).pipe(map((buffer) => ({ queued, buffer })))))
      .subscribe(({ queued, buffer }) => {
        if (queued.order <= this.dropUpTo || this.stopped.has(queued.requestId)) return;
        const frame = { requestId: queued.requestId, voiceStreamSeq: queued.chunk.voiceStreamSeq, buffer, offset: 0 };
        const held = this.paused.get(queued.requestId);
        if (held) held.push(frame);
        else this.schedule(frame);
      });
  }

  get context(): AudioContext {
    return (this.contextValue ??= new AudioContext());
  }

  /**
   * Browsers start audio only after a user gesture: call this from one (a
   * click, a key press). Audio that comes before is not played, and counts
   * as not heard.
   */
  unlock(): Promise<void> {
    this.unlocked = true;
    return this.context.resume();
  }

  play(requestId: string, chunk: AudioChunk): void {
    if (!this.unlocked) return;
    const taken = this.takenThrough.get(requestId);
    if (taken !== undefined && chunk.voiceStreamSeq <= taken) return;
    this.takenThrough.set(requestId, chunk.voiceStreamSeq);
    this.incoming.next({ order: this.enqueued++, requestId, chunk });
  }

  /**
   * Silences a request's audio at once and keeps it, and what comes for it
   * meanwhile, for resume(). Returns where it paused.
   */
  pause(requestId: string): PlayedPosition | undefined {
    if (!this.unlocked || this.stopped.has(requestId)) return this.positionOf(requestId);
    if (this.paused.has(requestId)) return this.positionOf(requestId);
    const now = this.context.currentTime;
    const [mine, others] = partition(this.scheduled, (entry) => entry.requestId === requestId);
    this.scheduled = others;
    const held: Decoded[] = [];
    for (const entry of mine) {
      silence(entry.source);
      // Over already, its onended not yet run: it was played.
      if (endOf(entry) <= now) this.finished(entry);
      else
        held.push({
          requestId,
          voiceStreamSeq: entry.voiceStreamSeq,
          buffer: entry.buffer,
          offset: entry.offset + Math.max(0, now - entry.startsAt),
        });
    }
    this.paused.set(requestId, held);
    this.closeGaps();
    return this.positionOf(requestId);
  }

  /** Plays a paused request's audio on from the very sample where it paused, then what arrived meanwhile. */
  resume(requestId: string): void {
    const held = this.paused.get(requestId);
    if (!held) return;
    this.paused.delete(requestId);
    for (const frame of held) this.schedule(frame);
  }

  stop(requestId: string): PlayedPosition | undefined {
    const position = this.positionOf(requestId);
    this.stopped.add(requestId);
    this.paused.delete(requestId);
    this.playedThrough.delete(requestId);
    const [mine, others] = partition(this.scheduled, (entry) => entry.requestId === requestId);
    if (mine.length === 0) return position;
    for (const entry of mine) silence(entry.source);
    this.scheduled = others;
    this.closeGaps();
    return position;
  }

  stopAll(): void {
    for (const entry of this.scheduled) silence(entry.source);
    this.scheduled = [];
    this.paused.clear();
    this.playedThrough.clear();
    this.dropUpTo = this.enqueued - 1;
    this.endsAt = 0;
  }

  /** Where a request's playback is now: in a frame, between frames, or past the last one played (paused: where it paused). */
  positionOf(requestId: string): PlayedPosition | undefined {
    if (!this.unlocked) return undefined;
    const next = this.paused.get(requestId)?.at(0);
    if (next) return { voice_stream_seq: next.voiceStreamSeq, played_ms: Math.round(next.offset * 1000) };
    const now = this.context.currentTime;
    for (const entry of this.scheduled) {
      if (entry.requestId !== requestId || endOf(entry) <= now) continue;
      const playedMs = (entry.offset + Math.max(0, now - entry.startsAt)) * 1000;
      return { voice_stream_seq: entry.voiceStreamSeq, played_ms: Math.round(playedMs) };
    }
    const through = this.playedThrough.get(requestId);
    return through === undefined ? undefined : { voice_stream_seq: through, played_ms: 0 };
  }

  private decode(chunk: AudioChunk): Observable<AudioBuffer> {
    const { format, audio } = chunk;
    if (format.codec !== 'pcm_s16le') {
      // A frame that does not decode on its own is skipped: the ones after it still play.
      return from(this.context.decodeAudioData(audio.slice().buffer)).pipe(catchError(() => EMPTY));
    }
    const channels = pcm16ToChannels(audio, format.channels);
    const buffer = this.context.createBuffer(format.channels, Math.max(1, channels[0].length), format.sample_rate);
    channels.forEach((data, channel) => buffer.copyToChannel(data, channel));
    return of(buffer);
  }

  private schedule(frame: Decoded): void {
    const startsAt = Math.max(this.endsAt, this.context.currentTime + this.leadSeconds);
    const entry: Scheduled = { ...frame, startsAt, source: this.start(frame, startsAt) };
    entry.source.onended = () => this.finished(entry);
    this.scheduled.push(entry);
    this.endsAt = endOf(entry);
  }

  private start({ buffer, offset }: Decoded, at: number): AudioBufferSourceNode {
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    source.start(at, offset);
    return source;
  }

  private finished(entry: Scheduled): void {
    this.scheduled = this.scheduled.filter((e) => e !== entry);
    const through = entry.voiceStreamSeq + 1;
    this.playedThrough.set(entry.requestId, Math.max(through, this.playedThrough.get(entry.requestId) ?? 0));
    this.reports.next({ request_id: entry.requestId, voice_stream_seq: through, played_ms: 0 });
  }

  /** What was queued behind a stopped request moves up, so no silence is left where it was. */
  private closeGaps(): void {
    const now = this.context.currentTime;
    const [started, waiting] = partition(this.scheduled, (entry) => entry.startsAt <= now);
    let at = Math.max(now + this.leadSeconds, ...started.map(endOf));
    for (const entry of waiting) {
      silence(entry.source);
      entry.startsAt = at;
      entry.source = this.start(entry, at);
      entry.source.onended = () => this.finished(entry);
      at = endOf(entry);
    }
    this.endsAt = started.length > 0 || waiting.length > 0 ? at : 0;
  }
}

/** When a scheduled frame's audio is over, in the context's clock. */
function endOf(entry: Scheduled): number {
  return entry.startsAt + entry.buffer.duration - entry.offset;
}

/** Stops a source without it reporting as played. */
function silence(source: AudioBufferSourceNode): void {
  source.onended = null;
  source.stop();
  source.disconnect();
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}
