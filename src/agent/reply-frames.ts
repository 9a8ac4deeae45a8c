import type { DroppedFrames } from '../session/outbound-queue.js';
import { endFrame } from '../session/end-frame.js';
import type { LlmEvent } from '../llm/llm-events.js';
import type { ErrorCode, AudioPayload, EndPayload, TextDeltaPayload } from '@agent-gateway/protocol';
import type { ActiveRequest, Cancellation } from '../requests/active-request.js';
import type { SpeechLedger } from '../tts/speech-ledger.js';
import { frameEnergies } from '../audio/energy-envelope.js';
import { wholeSamples } from '../audio/pcm.js';
import type { SpokenChunk } from '../tts/speech.service.js';
import type { AudioFormat } from '../tts/tts-provider.js';

export type ReplyOutcome = { kind: 'finished' } | { kind: 'interrupted'; cancellation: Cancellation } | { kind: 'failed'; code: ErrorCode };

export type AudioFrame = { kind: 'json'; payload: AudioPayload } | { kind: 'binary'; voiceStreamSeq: number; audio: Uint8Array };

export interface ReplySpeech {
  ledger: SpeechLedger;
  format: AudioFormat;
  transport: 'json' | 'binary';
  /** The session listens to the user (voice input): how loud each frame was is kept, to tell the agent's echo from the user. */
  listens: boolean;
}

/** Numbers the RESPONSE frames of one request, text and audio, and writes its single end frame. */
export class ReplyFrames {
  private textSeq = 0;
  private firstTokenAt?: number;
  private finishReason: string | null = null;
  private ttsError?: ErrorCode;
  /** The end frame, once written: it is sent as it leaves the queue, so audio dropped before that still counts down. */
  private ended?: EndPayload;

  constructor(
    private readonly request: ActiveRequest,
    private readonly speech?: ReplySpeech,
  ) {}

  /** The frame for an upstream event, if it carries text for the client. */
  delta(event: LlmEvent): TextDeltaPayload | undefined {
    if (event.type === 'finish') this.finishReason = event.reason;
    if (event.type !== 'text' && event.type !== 'reasoning') return undefined;
    this.firstTokenAt ??= performance.now();
    return {
      request_id: this.request.id,
      text_stream_seq: this.textSeq++,
      content: event.type === 'text' ? { text: event.text } : { reasoning: event.text },
    };
  }

  /** The frame for a piece of speech, recorded in the ledger with the text it speaks. */
  audio(chunk: SpokenChunk): AudioFrame {
    const { ledger, format, transport, listens } = this.speechOrThrow();
    // Compressed frames have no known duration; the ledger then counts in whole frames.
    const seq = ledger.recordChunk(chunk.segment, chunk.segmentText, chunk.durationMs ?? 1);
    if (listens && format.codec === 'pcm_s16le') ledger.recordLoudness(frameEnergies(wholeSamples(chunk.audio), format.sample_rate));
    if (transport === 'binary') return { kind: 'binary', voiceStreamSeq: seq, audio: chunk.audio };
    return {
      kind: 'json',
      payload: {
        request_id: this.request.id,
        voice_stream_seq: seq,
        content: {
          audio: chunk.audio.toString('base64'),
          audio_format: format,
          duration_ms: chunk.durationMs === null ? null : round(chunk.durationMs),
          segment_index: chunk.segment,
          ...(chunk.firstOfSegment && { segment_text: chunk.segmentText }),
        },
      },
    };
  }

  segmentEnded(segment: number): void {
    this.speech?.ledger.completeSegment(segment);
  }

  speechFailed(code: ErrorCode): void {
    this.ttsError = code;
  }

  /**
   * Frames of this request were dropped unsent: audio frames leave in order,
   * so the client got every one before the first dropped, and none after.
   * voice_frames (also of an end frame still waiting in the queue) counts
   * only those, keeping voice_stream_seq 0 … voice_frames−1 without a gap.
   */
  retract(dropped: DroppedFrames): void {
    if (!this.speech || dropped.voiceSeqs.length === 0) return;
    this.speech.ledger.truncate(dropped.voiceSeqs.reduce((first, seq) => Math.min(first, seq)));
    if (this.ended) this.ended.voice_frames = this.speech.ledger.chunkCount;
  }

  end(outcome: ReplyOutcome): EndPayload {
    const { startedAt } = this.request;
    this.ended = endFrame({
      requestId: this.request.id,
      outcome:
        outcome.kind === 'finished'
          ? { kind: 'finished', finishReason: this.finishReason }
          : outcome.kind === 'interrupted'
            ? { kind: 'interrupted', reason: outcome.cancellation.reason, heardText: this.speech?.ledger.heardText() }
            : outcome,
      usage: this.request.usage.toUsage(),
      timing: {
        first_token_ms: this.firstTokenAt === undefined ? null : round(this.firstTokenAt - startedAt),
        total_ms: round(performance.now() - startedAt),
      },
      voiceFrames: this.speech?.ledger.chunkCount ?? 0,
      ttsError: this.ttsError,
    });
    return this.ended;
  }

  private speechOrThrow(): ReplySpeech {
    if (!this.speech) throw new Error('audio for a request that does not speak');
    return this.speech;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
