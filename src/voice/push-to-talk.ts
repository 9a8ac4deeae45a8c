import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { defer, filter, finalize, map, type Observable, Subject, tap } from 'rxjs';
import type { AsrProvider } from '../asr/asr-provider.js';
import { GatewayError } from '../common/gateway-error.js';
import { base64Bytes, durationMs, pcmBytes, pcmSamples } from '../audio/pcm.js';
import type { Resampler } from '../audio/resampler.js';
import type { VoiceFrames } from './voice-frames.js';
import { wordsOf } from './turn-words.js';

type AudioRequest = Extract<ParsedClientPayloads['REQUEST'], { data_type: 'AUDIO' }>;

export interface PushToTalkDeps {
  asr: AsrProvider;
  language: string;
  maxUtteranceMs: number;
  frames: VoiceFrames;
  resampler: (sampleRate: number) => Promise<Resampler>;
  /** Starts the request whose prompt is the transcript to come (RequestRunner). */
  startRequest: (request: AudioRequest, transcript$: Observable<string>) => void;
}

interface Utterance {
  /** The stream_seq the next chunk must have. */
  expected: number;
  sampleRate: number;
  samples: number;
  audio: Subject<Int16Array>;
}

/** Utterances that ended (interrupted, too long) recently: their late chunks are dropped, not errors. */
const REMEMBERED_ENDED = 16;

/**
 * Push-to-talk: each user turn is one REQUEST, its audio in order (START,
 * CONTINUE…, END by stream_seq). The request exists from START: its
 * transcription streams while the user speaks, its reply starts once the
 * transcript is final, and an INTERRUPT at any point stops all of it,
 * recognition included. A chunk out of order is refused (nothing is taken
 * twice or skipped), and the client may send the right one.
 */
export class PushToTalk {
  private readonly utterances = new Map<string, Utterance>();
  private readonly ended: string[] = [];

  constructor(private readonly deps: PushToTalkDeps) {}

  async handle(request: AudioRequest, defaultRate: number): Promise<void> {
    const { request_id: requestId, stream_flag: flag, stream_seq: seq } = request;
    if (flag === 'START') return this.start(request, request.content.audio_format?.sample_rate ?? defaultRate);
    const utterance = this.open(requestId);
    if (!utterance) return;
    this.push(requestId, utterance, seq, pcmSamples(base64Bytes(request.content.audio)));
    if (flag === 'END') {
      this.forget(requestId);
      utterance.audio.complete();
    }
  }

  /** A binary frame: a CONTINUE chunk of an open audio request. */
  binaryChunk(requestId: string, seq: number, bytes: Uint8Array): void {
    const utterance = this.open(requestId);
    if (utterance) this.push(requestId, utterance, seq, pcmSamples(bytes));
  }

  /** The open utterance of a chunk; none, silently, for one that ended lately; an error for one never opened. */
  private open(requestId: string): Utterance | undefined {
    const utterance = this.utterances.get(requestId);
    if (utterance || this.ended.includes(requestId)) return utterance;
    throw new GatewayError('UNKNOWN_REQUEST', { requestId, message: `No audio request ${requestId} is open: send START first` });
  }

  private async start(request: AudioRequest, sampleRate: number): Promise<void> {
    const requestId = request.request_id;
    if (this.utterances.has(requestId)) throw new GatewayError('DUPLICATE_REQUEST', { requestId });
    const initial = pcmSamples(base64Bytes(request.content.audio));
    const resampler = await this.deps.resampler(sampleRate);
    const utterance: Utterance = { expected: request.stream_seq + 1, sampleRate, samples: 0, audio: new Subject() };
    const { asr, language, frames } = this.deps;
    const transcript$ = defer(() =>
      asr.transcribe(utterance.audio.pipe(map((samples) => pcmBytes(resampler.push(samples)))), { language }),
    ).pipe(
      tap((event) => frames.transcript({ request_id: requestId, text: event.text, final: event.type === 'final' })),
      filter((event) => event.type === 'final'),
      map((event) => {
        if (wordsOf(event.text).length === 0) throw new GatewayError('NO_SPEECH', { requestId });
        return event.text;
      }),
      finalize(() => {
        if (this.utterances.get(requestId) === utterance) this.forget(requestId);
        resampler.close();
      }),
    );
    this.utterances.set(requestId, utterance);
    try {
      this.deps.startRequest(request, transcript$);
    } catch (error) {
      this.utterances.delete(requestId);
      resampler.close();
      throw error;
    }
    if (initial.length > 0) this.add(requestId, utterance, initial);
  }

  private push(requestId: string, utterance: Utterance, seq: number, samples: Int16Array): void {
    if (seq !== utterance.expected) {
      throw new GatewayError('AUDIO_OUT_OF_ORDER', {
        requestId,
        message: `stream_seq ${seq} refused: the next chunk of ${requestId} is ${utterance.expected}`,
      });
    }
    utterance.expected += 1;
    this.add(requestId, utterance, samples);
  }

  private add(requestId: string, utterance: Utterance, samples: Int16Array): void {
    utterance.samples += samples.length;
    if (durationMs(utterance.samples, utterance.sampleRate) > this.deps.maxUtteranceMs) {
      this.forget(requestId);
      utterance.audio.error(
        new GatewayError('AUDIO_TOO_LONG', { requestId, message: `The utterance is longer than ${this.deps.maxUtteranceMs} ms` }),
      );
      return;
    }
    utterance.audio.next(samples);
  }

  private forget(requestId: string): void {
    this.utterances.delete(requestId);
    this.ended.push(requestId);
    if (this.ended.length > REMEMBERED_ENDED) this.ended.shift();
  }

  /**
   * The last socket went away mid-utterance: what was said so far is the
   * turn (a durable request goes on with it; the others are stopped by their
   * own chain, which kills the recognition).
   */
  close(): void {
    for (const utterance of this.utterances.values()) utterance.audio.complete();
    this.utterances.clear();
  }
}
