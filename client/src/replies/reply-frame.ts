import {
  type AudioFormatPayload,
  type BinaryAudioFrame,
  type EndPayload,
  type ErrorPayload,
  isAudioPayload,
  isEndPayload,
  type ResponsePayload,
  type ToolStatusPayload,
} from '@agent-gateway/protocol';
import type { AudioChunk } from '../audio/audio-chunk.js';
import { fromBase64 } from '../base64.js';

/** What a reply is made of, in the order the gateway sent it. */
export type ReplyFrame =
  | { kind: 'text'; requestId: string; index: number; text: string }
  | { kind: 'reasoning'; requestId: string; index: number; text: string }
  | { kind: 'audio'; requestId: string; chunk: AudioChunk }
  | { kind: 'tool'; requestId: string; status: ToolStatusPayload }
  /** An ERROR that does not end the reply by itself: speech failed (the text goes on), or the model failed (the end frame follows). */
  | { kind: 'error'; requestId: string; error: ErrorPayload }
  /** The last frame of every reply. */
  | { kind: 'end'; requestId: string; end: EndPayload };

export function responseFrame(payload: ResponsePayload): ReplyFrame {
  const requestId = payload.request_id;
  if (isEndPayload(payload)) return { kind: 'end', requestId, end: payload };
  if (isAudioPayload(payload)) {
    const { content } = payload;
    return {
      kind: 'audio',
      requestId,
      chunk: {
        voiceStreamSeq: payload.voice_stream_seq,
        audio: fromBase64(content.audio),
        format: content.audio_format,
        durationMs: content.duration_ms,
        segmentIndex: content.segment_index,
        segmentText: content.segment_text,
      },
    };
  }
  const { content, text_stream_seq: index } = payload;
  return 'text' in content
    ? { kind: 'text', requestId, index, text: content.text }
    : { kind: 'reasoning', requestId, index, text: content.reasoning };
}

/** A binary audio frame, in the format REGISTER_ACK announced. */
export function binaryAudioFrame(frame: BinaryAudioFrame, format: AudioFormatPayload): ReplyFrame {
  const bytesPerMs = (format.sample_rate * 2 * format.channels) / 1000;
  return {
    kind: 'audio',
    requestId: frame.requestId,
    chunk: {
      voiceStreamSeq: frame.voiceStreamSeq,
      audio: frame.audio,
      format,
      durationMs: format.codec === 'pcm_s16le' ? frame.audio.length / bytesPerMs : null,
    },
  };
}
