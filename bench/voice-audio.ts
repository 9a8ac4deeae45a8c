import { FrameSplitter } from '../src/audio/frame-splitter.js';
import { createResampler, type Resampler } from '../src/audio/resampler.js';
import { FvadEngine } from '../src/vad/fvad.engine.js';
import { type SegmentEvent, SpeechSegmenter } from '../src/vad/speech-segmenter.js';
import type { VoiceDetector } from '../src/vad/vad-engine.js';
import { bytesOf, concat, silence, SPEECH_RATE } from '../test/support/spoken-audio.js';
import { sleep } from './stats.js';

/** 20 ms of the microphone: espeak-ng's rate, which the gateway resamples to 16 kHz. */
const CHUNK_MS = 20;
const CHUNK_SAMPLES = (SPEECH_RATE * CHUNK_MS) / 1000;
/** Above this (of 32767) a sample is voice: espeak-ng's silence is exact zeros, its speech reaches ~25,000. */
const VOICED_AMPLITUDE = 200;

/** The gateway's defaults (VAD_MODE, VAD_START_MS, VAD_SILENCE_MS). */
export const VAD_DEFAULTS = { mode: 3, startMs: 60, silenceMs: 500 } as const;

/** Audio to stream, with the chunks that hold its first and its last voiced sample. */
export interface Clip {
  samples: Int16Array;
  onsetChunk: number;
  lastVoicedChunk: number;
}

/** Silence, the sound (cut after its last voiced sample), silence: each chunk's place known. */
export function clipOf(sound: Int16Array, leadMs: number, tailMs: number): Clip {
  let first = -1;
  let last = -1;
  sound.forEach((sample, i) => {
    if (Math.abs(sample) <= VOICED_AMPLITUDE) return;
    if (first < 0) first = i;
    last = i;
  });
  if (first < 0) throw new Error('the clip holds no voice');
  const lead = silence(leadMs);
  const samples = concat(lead, sound.subarray(0, last + 1), silence(tailMs));
  return {
    samples,
    onsetChunk: Math.floor((lead.length + first) / CHUNK_SAMPLES),
    lastVoicedChunk: Math.floor((lead.length + last) / CHUNK_SAMPLES),
  };
}

/**
 * The gateway's hands-free front end, in this process: the same resampler,
 * 20 ms framing, WebRTC VAD and segmenter, with the gateway's defaults. One
 * per session, kept from one clip to the next as the gateway keeps its own.
 */
export class LocalVad {
  private readonly splitter = new FrameSplitter(320);
  private readonly segmenter = new SpeechSegmenter({ frameMs: 20, startMs: VAD_DEFAULTS.startMs, silenceMs: VAD_DEFAULTS.silenceMs });

  private constructor(
    private readonly resampler: Resampler,
    private readonly detector: VoiceDetector,
  ) {}

  static async create(engine: FvadEngine): Promise<LocalVad> {
    return new LocalVad(await createResampler(SPEECH_RATE, 16_000), engine.createDetector());
  }

  static loadEngine(): Promise<FvadEngine> {
    return FvadEngine.load(VAD_DEFAULTS.mode);
  }

  push(samples: Int16Array): SegmentEvent[] {
    const events: SegmentEvent[] = [];
    for (const frame of this.splitter.push(this.resampler.push(samples))) {
      const event = this.segmenter.push(this.detector.isSpeech(frame));
      if (event) events.push(event);
    }
    return events;
  }

  close(): void {
    this.detector.close();
    this.resampler.close();
  }
}

/** When things happened while a clip streamed (performance.now()). */
export interface Streamed {
  /** The chunk with the first voiced sample went to the gateway. */
  onsetSentAt: number;
  /** The chunk with the last voiced sample went to the gateway. */
  lastVoicedSentAt: number;
  /** The same chunk went into the local VAD, and the local segmenter said speech started (and stopped). */
  localOnsetAt: number;
  localStartAt?: number;
  localStopAt?: number;
}

/**
 * Streams a clip as a microphone does, 20 ms chunks at real time (paced
 * against the clock, so that a late timer does not add up), to the gateway
 * and, right behind each send, into the local VAD: the floor sees every
 * chunk when the gateway's socket gets it.
 */
export async function streamClip(clip: Clip, send: (pcm: Buffer) => void, vad: LocalVad): Promise<Streamed> {
  const times: Partial<Streamed> = {};
  const startedAt = performance.now();
  for (let index = 0, at = 0; at < clip.samples.length; index++, at += CHUNK_SAMPLES) {
    const chunk = clip.samples.subarray(at, at + CHUNK_SAMPLES);
    const sentAt = performance.now();
    send(bytesOf(chunk));
    if (index === clip.onsetChunk) times.onsetSentAt = sentAt;
    if (index === clip.lastVoicedChunk) times.lastVoicedSentAt = sentAt;
    const fedAt = performance.now();
    if (index === clip.onsetChunk) times.localOnsetAt = fedAt;
    for (const event of vad.push(chunk)) {
      const now = performance.now();
      if (event.type === 'start') times.localStartAt ??= now;
      else times.localStopAt ??= now;
    }
    const wait = startedAt + (index + 1) * CHUNK_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return times as Streamed;
}
