import { Subject, Subscription } from 'rxjs';
import { ASR_SAMPLE_RATE, type AsrEvent, type AsrProvider } from '../asr/asr-provider.js';
import { frameEnergies } from '../audio/energy-envelope.js';
import { durationMs, pcmBytes } from '../audio/pcm.js';
import { GatewayError } from '../common/gateway-error.js';
import { FrameSplitter } from '../audio/frame-splitter.js';
import type { Resampler } from '../audio/resampler.js';
import { SpeechSegmenter, type SegmentEvent, type SegmenterOptions } from '../vad/speech-segmenter.js';
import type { VoiceDetector } from '../vad/vad-engine.js';
import type { BargeIn } from './barge-in.js';
import type { VoiceFrames } from './voice-frames.js';

export interface HandsFreeOptions {
  segmenter: SegmenterOptions;
  prefixPaddingMs: number;
  maxUtteranceMs: number;
  language: string;
}

interface Utterance {
  speechId: string;
  startMs: number;
  endMs?: number;
  audio: Subject<Buffer>;
  /** 20 ms a value, for the echo check. */
  loudness: number[];
  /** Audio of the utterance until its recognizer has started. */
  pending?: Buffer[];
  /** No recognizer for it (too many at once): it ends without words. */
  unheard?: boolean;
}

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
/**
 * A microphone speaks at real time: audio may come faster (a client catching
 * up after a stall) by this factor, plus a burst, and no faster. Past it the
 * chunk is refused, so no client can spend the gateway's CPU (VAD, resampler,
 * recognizers) many times faster than it talks.
 */
const MAX_SPEED = 3;
const BURST_MS = 5000;
/** Recognitions one session may run at once (an utterance's may still run when the next begins). */
const MAX_RECOGNITIONS = 2;

/**
 * A session's microphone, streamed: resampled to 16 kHz, cut into 20 ms
 * frames, each judged by the VAD; the segmenter finds where speech starts
 * and stops. Each utterance, from a little before its onset, streams to the
 * recognizer as it is spoken; its transcripts go to the client and to the
 * barge-in decisions. Closing it kills every recognition still running.
 */
export class HandsFreeInput {
  private readonly splitter = new FrameSplitter(FRAME_SAMPLES);
  private readonly segmenter: SpeechSegmenter;
  /** The frames before the current one, for the audio just before an onset. */
  private readonly recent: Int16Array[] = [];
  private readonly keepFrames: number;
  private utterance?: Utterance;
  private readonly recognitions = new Set<Subscription>();
  private speeches = 0;
  private closed = false;
  /** Audio received, in ms, and since when: the real-time budget. */
  private receivedMs = 0;
  private firstAt?: number;

  constructor(
    private readonly resampler: Resampler,
    private readonly detector: VoiceDetector,
    private readonly asr: AsrProvider,
    private readonly bargeIn: BargeIn,
    private readonly frames: VoiceFrames,
    private readonly options: HandsFreeOptions,
  ) {
    this.segmenter = new SpeechSegmenter(options.segmenter);
    this.keepFrames = Math.ceil((options.prefixPaddingMs + options.segmenter.startMs) / options.segmenter.frameMs) + 1;
  }

  /** Samples in the client's format, in order. */
  push(samples: Int16Array, sampleRate: number): void {
    if (this.closed) return;
    const now = performance.now();
    this.firstAt ??= now;
    const ms = durationMs(samples.length, sampleRate);
    if (this.receivedMs + ms > (now - this.firstAt) * MAX_SPEED + BURST_MS) {
      throw new GatewayError('RATE_LIMITED', { message: `Microphone audio may come at most ${MAX_SPEED}× faster than real time` });
    }
    this.receivedMs += ms;
    for (const frame of this.splitter.push(this.resampler.push(samples))) this.frame(frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const recognition of [...this.recognitions]) recognition.unsubscribe();
    this.recognitions.clear();
    this.detector.close();
    this.resampler.close();
    this.bargeIn.close();
  }

  private frame(frame: Int16Array): void {
    const event = this.segmenter.push(this.detector.isSpeech(frame));
    this.recent.push(frame);
    if (this.recent.length > this.keepFrames) this.recent.shift();
    if (event) this.segment(event);
    else if (this.utterance) this.feed(this.utterance, frame);
    const utterance = this.utterance;
    if (utterance && this.segmenter.positionMs - utterance.startMs > this.options.maxUtteranceMs) {
      this.segment({ type: 'stop', endMs: this.segmenter.positionMs });
    }
  }

  private feed(utterance: Utterance, frame: Int16Array): void {
    utterance.loudness.push(...frameEnergies(frame, ASR_SAMPLE_RATE));
    if (utterance.pending) utterance.pending.push(pcmBytes(frame));
    else utterance.audio.next(pcmBytes(frame));
  }

  private segment(event: SegmentEvent): void {
    if (event.type === 'start') {
      const speechId = `speech_${++this.speeches}`;
      const audio = new Subject<Buffer>();
      const utterance: Utterance = { speechId, startMs: event.startMs, audio, loudness: [], pending: [] };
      this.utterance = utterance;
      this.frames.speechStarted(speechId, event.startMs);
      this.bargeIn.started(speechId, event.startMs);
      // The onset, and the padding before it (the recognizer needs the start of the first word).
      for (const frame of this.recent) this.feed(utterance, frame);
      // Starting a recognizer may fork a process, which takes milliseconds: the PLAYBACK_PAUSE just queued
      // is written to the socket first, at the end of this tick.
      setImmediate(() => this.recognize(utterance));
      return;
    }
    const utterance = this.utterance;
    if (!utterance) return;
    this.utterance = undefined;
    utterance.endMs = event.endMs;
    this.frames.speechStopped(utterance.speechId, event.endMs);
    this.bargeIn.stopped(utterance.speechId, event.endMs);
    if (utterance.unheard) this.bargeIn.transcript(utterance.speechId, '', true, event.endMs - utterance.startMs);
    else if (!utterance.pending) utterance.audio.complete();
  }

  private recognize(utterance: Utterance): void {
    if (this.closed) return;
    if (this.recognitions.size >= MAX_RECOGNITIONS) {
      // Too many at once: this speech goes unheard, and counts as no words when it ends.
      utterance.pending = undefined;
      utterance.unheard = true;
      if (utterance.endMs !== undefined) this.bargeIn.transcript(utterance.speechId, '', true, utterance.endMs - utterance.startMs);
      return;
    }
    const { speechId, startMs } = utterance;
    const heardMs = () => (utterance.endMs ?? this.segmenter.positionMs) - startMs;
    const recognition = new Subscription(() => this.recognitions.delete(recognition));
    this.recognitions.add(recognition);
    recognition.add(
      this.asr.transcribe(utterance.audio, { language: this.options.language }).subscribe({
        next: (event: AsrEvent) => {
          const final = event.type === 'final';
          const requestId = this.bargeIn.transcript(speechId, event.text, final, heardMs(), utterance.loudness);
          this.frames.transcript({
            speech_id: speechId,
            text: event.text,
            final,
            ...(requestId !== undefined && { request_id: requestId }),
          });
        },
        error: (error: unknown) => {
          recognition.unsubscribe();
          this.frames.recognitionFailed(speechId, error);
          this.bargeIn.transcript(speechId, '', true, heardMs());
        },
        complete: () => recognition.unsubscribe(),
      }),
    );
    const pending = utterance.pending ?? [];
    utterance.pending = undefined;
    for (const chunk of pending) utterance.audio.next(chunk);
    // The speech ended before its recognizer started.
    if (utterance.endMs !== undefined) utterance.audio.complete();
  }
}
