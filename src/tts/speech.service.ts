import type { OnModuleDestroy } from '@nestjs/common';
import { endWith, identity, map, type Observable } from 'rxjs';
import type { AppConfig } from '../config/config.schema.js';
import { languageOf } from '../common/language-of.js';
import { concatMapEager } from './concat-map-eager.js';
import { rechunk, segmentSentences } from './speech-operators.js';
import type { AudioFormat, FlowControl, TtsProvider } from './tts-provider.js';

export interface SpokenChunk {
  audio: Buffer;
  /** Index of the segment (sentence) within the reply. */
  segment: number;
  segmentText: string;
  firstOfSegment: boolean;
  /** Exact for PCM; null for compressed formats, whose frames carry no fixed duration. */
  durationMs: number | null;
}

export type SpeechEvent = { type: 'chunk'; chunk: SpokenChunk } | { type: 'segment-end'; segment: number };

/** Compressed audio is passed on as the provider cut it, in frames no bigger than this. */
const MAX_COMPRESSED_FRAME_BYTES = 32 * 1024;

/**
 * Turns a reply's streamed text into speech: sentences are cut as the text
 * arrives, each one is synthesized by the provider as a cold Observable, in
 * order, with `lookahead` sentences synthesizing ahead of the one being sent,
 * and the audio is cut into frames of equal duration. Unsubscribing tears
 * every running synthesis down.
 */
export class SpeechService implements OnModuleDestroy {
  constructor(
    private readonly provider: TtsProvider | null,
    /** Why there is no provider, for logs and REGISTER_ACK. */
    readonly unavailableReason: string | undefined,
    private readonly options: AppConfig['tts'],
  ) {}

  get enabled(): boolean {
    return this.provider !== null;
  }

  get providerName(): string | undefined {
    return this.provider?.descriptor.provider;
  }

  get voice(): string | undefined {
    return this.provider?.descriptor.voice;
  }

  get format(): AudioFormat | undefined {
    return this.provider?.descriptor.format;
  }

  speak(text$: Observable<string>, flow: FlowControl): Observable<SpeechEvent> {
    const provider = this.provider;
    if (!provider) throw new Error('speak() called with speech synthesis disabled');
    const { format } = provider.descriptor;
    const bytesPerMs = format.codec === 'pcm_s16le' ? (format.sample_rate * 2 * format.channels) / 1000 : undefined;
    const frameBytes = bytesPerMs
      ? Math.max(1, Math.round((this.options.chunkMs * bytesPerMs) / (2 * format.channels))) * 2 * format.channels
      : MAX_COMPRESSED_FRAME_BYTES;

    return text$.pipe(
      segmentSentences(this.options.segment),
      concatMapEager(
        (segmentText, segment) =>
          provider.synthesize({ text: segmentText, language: languageOf(segmentText) }, flow).pipe(
            bytesPerMs ? rechunk(frameBytes) : identity,
            map((audio, i): SpeechEvent => ({
              type: 'chunk',
              chunk: {
                audio,
                segment,
                segmentText,
                firstOfSegment: i === 0,
                durationMs: bytesPerMs ? audio.length / bytesPerMs : null,
              },
            })),
            endWith<SpeechEvent>({ type: 'segment-end', segment }),
          ),
        this.options.lookahead,
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await (this.provider as Partial<OnModuleDestroy> | null)?.onModuleDestroy?.();
  }
}
