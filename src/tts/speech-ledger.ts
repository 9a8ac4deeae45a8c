import { languageOf } from '../common/language-of.js';

/** Where the client's playback of a request's audio has got to. */
export interface PlayedPosition {
  /** The audio frame being played (all earlier ones were played entirely). */
  voice_stream_seq: number;
  /** How far into that frame, in milliseconds. */
  played_ms: number;
}

interface ChunkEntry {
  segment: number;
  /** Start of the chunk within its segment's audio. */
  offsetMs: number;
  durationMs: number;
}

interface SegmentEntry {
  text: string;
  /** Audio recorded for this segment so far: sent, or dropped unsent (it still tells how long the segment is). */
  recordedMs: number;
  /** Synthesis of the segment ran to its end, so `recordedMs` is its whole length. */
  complete: boolean;
}

/** Speaking rates used when a segment was cut before its length was known. */
const ESTIMATED_MS_PER_CHAR = { zh: 230, en: 65 };
const WORDS = new Intl.Segmenter(undefined, { granularity: 'word' });

/**
 * Which text each audio frame of one request spoke, so that the gateway can
 * tell exactly what the user heard once the client reports how far it played
 * (PLAYBACK, or INTERRUPT's `played_until`). Within a segment, text is
 * attributed in proportion to time, cut at a word boundary.
 */
export class SpeechLedger {
  private readonly chunks: ChunkEntry[] = [];
  private readonly segments: SegmentEntry[] = [];
  private played?: PlayedPosition;
  private firstRecordedAt?: number;
  /** The loudness of the audio sent, 20 ms a value (PCM only), for telling the agent's echo from the user. */
  private readonly loudness: number[] = [];
  private recordedMs = 0;

  /** Records an audio frame about to be sent; returns its voice_stream_seq. */
  recordChunk(segment: number, segmentText: string, durationMs: number): number {
    this.firstRecordedAt ??= performance.now();
    this.recordedMs += durationMs;
    const entry = (this.segments[segment] ??= { text: segmentText, recordedMs: 0, complete: false });
    this.chunks.push({ segment, offsetMs: entry.recordedMs, durationMs });
    entry.recordedMs += durationMs;
    return this.chunks.length - 1;
  }

  completeSegment(segment: number): void {
    const entry = this.segments.at(segment);
    if (entry) entry.complete = true;
  }

  /**
   * When the client should be done playing what was sent, at its own pace
   * from the first frame on (`performance.now()` time; `extraMs` for pauses):
   * undefined before any audio.
   */
  playsUntil(extraMs = 0): number | undefined {
    return this.firstRecordedAt === undefined ? undefined : this.firstRecordedAt + this.recordedMs + extraMs;
  }

  recordLoudness(energies: readonly number[]): void {
    this.loudness.push(...energies);
  }

  /** The loudness envelope of the audio sent so far. */
  get envelope(): readonly number[] {
    return this.loudness;
  }

  /** The text of the last `count` sentences that audio was sent for: what the user may be hearing now. */
  recentText(count = 3): string {
    const spoken = new Set(this.chunks.map((chunk) => chunk.segment));
    return joinSegments([...spoken].slice(-count).map((segment) => this.segments[segment].text));
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  /**
   * Frames from `voiceStreamSeq` on were recorded but dropped before they
   * were sent (frames leave in order, so all of them): the client got only
   * the ones before, and cannot have heard past them. What was synthesized
   * for a segment still tells how long it is.
   */
  truncate(voiceStreamSeq: number): void {
    if (voiceStreamSeq < this.chunks.length) this.chunks.length = voiceStreamSeq;
  }

  /** Keeps the furthest position reported; positions beyond what was sent are clamped to the end. */
  reportPlayed(position: PlayedPosition): void {
    if (!this.played || compare(position, this.played) > 0) this.played = position;
  }

  /** What the user heard, or undefined when the client never reported its playback. */
  heardText(): string | undefined {
    if (!this.played) return undefined;
    if (this.chunks.length === 0) return '';
    const seq = Math.min(this.played.voice_stream_seq, this.chunks.length - 1);
    const chunk = this.chunks[seq];
    const intoChunk = this.played.voice_stream_seq > seq ? chunk.durationMs : Math.min(this.played.played_ms, chunk.durationMs);
    const heard = this.segments.slice(0, chunk.segment).map((s) => s.text);
    const current = this.segments[chunk.segment];
    const fraction = Math.min(1, (chunk.offsetMs + intoChunk) / this.lengthMs(current));
    const partial = wordsUpTo(current.text, fraction);
    if (partial) heard.push(partial);
    return joinSegments(heard);
  }

  private lengthMs(segment: SegmentEntry): number {
    if (segment.complete) return Math.max(1, segment.recordedMs);
    const estimate = segment.text.length * ESTIMATED_MS_PER_CHAR[languageOf(segment.text)];
    return Math.max(1, segment.recordedMs, estimate);
  }
}

function compare(a: PlayedPosition, b: PlayedPosition): number {
  return a.voice_stream_seq - b.voice_stream_seq || a.played_ms - b.played_ms;
}

/** The words of `text` whose end lies within the first `fraction` of it. */
function wordsUpTo(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const limit = fraction * text.length;
  let end = 0;
  for (const { index, segment } of WORDS.segment(text)) {
    if (index + segment.length > limit) break;
    end = index + segment.length;
  }
  return text.slice(0, end).trim();
}

/** Segments were trimmed when cut; put back a space between them, except around Chinese. */
function joinSegments(segments: string[]): string {
  return segments.reduce((text, segment) => {
    if (!text) return segment;
    const tight = languageOf(text.at(-1) ?? '') === 'zh' || languageOf(segment[0]) === 'zh' || /[，。！？；：、]$/.test(text);
    return tight ? text + segment : `${text} ${segment}`;
  }, '');
}
