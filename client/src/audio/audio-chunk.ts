import type { AudioFormatPayload } from '@agent-gateway/protocol';

/** A piece of a reply's speech, whichever way it travelled (base64 in JSON, or a binary frame). */
export interface AudioChunk {
  voiceStreamSeq: number;
  audio: Uint8Array;
  format: AudioFormatPayload;
  /** Exact for PCM; null for compressed formats. */
  durationMs: number | null;
  /** Which sentence it speaks, and on a sentence's first frame its text (JSON frames only). */
  segmentIndex?: number;
  segmentText?: string;
}
