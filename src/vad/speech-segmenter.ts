export interface SegmenterOptions {
  frameMs: number;
  /** Voiced frames in a row it takes to call it speech. */
  startMs: number;
  /** Unvoiced frames in a row it takes to call the speech over. */
  silenceMs: number;
}

/** What one frame changed: speech began (at the first of its voiced frames), or ended (after its last). */
export type SegmentEvent = { type: 'start'; startMs: number } | { type: 'stop'; endMs: number };

/**
 * Turns the detector's frame-by-frame verdicts into speech segments, with
 * the hysteresis that keeps a click from being speech and a breath from
 * ending it. Times are of the audio stream (frame n starts at n × frameMs),
 * not of the clock: the same audio always gives the same segments.
 */
export class SpeechSegmenter {
  private frame = 0;
  private voicedRun = 0;
  private silentRun = 0;
  private speaking = false;
  private lastVoicedEnd = 0;
  private readonly startFrames: number;
  private readonly silenceFrames: number;

  constructor(private readonly options: SegmenterOptions) {
    this.startFrames = Math.max(1, Math.round(options.startMs / options.frameMs));
    this.silenceFrames = Math.max(1, Math.round(options.silenceMs / options.frameMs));
  }

  get inSpeech(): boolean {
    return this.speaking;
  }

  /** The end of the audio seen so far. */
  get positionMs(): number {
    return this.frame * this.options.frameMs;
  }

  push(voiced: boolean): SegmentEvent | undefined {
    const { frameMs } = this.options;
    const index = this.frame++;
    if (voiced) {
      this.voicedRun += 1;
      this.silentRun = 0;
      this.lastVoicedEnd = (index + 1) * frameMs;
      if (!this.speaking && this.voicedRun >= this.startFrames) {
        this.speaking = true;
        return { type: 'start', startMs: (index + 1 - this.voicedRun) * frameMs };
      }
      return undefined;
    }
    this.voicedRun = 0;
    this.silentRun += 1;
    if (this.speaking && this.silentRun >= this.silenceFrames) {
      this.speaking = false;
      return { type: 'stop', endMs: this.lastVoicedEnd };
    }
    return undefined;
  }

  /** The stream ended mid-speech: the speech ends where its voice did. */
  flush(): SegmentEvent | undefined {
    if (!this.speaking) return undefined;
    this.speaking = false;
    return { type: 'stop', endMs: this.lastVoicedEnd };
  }
}
