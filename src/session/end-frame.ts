import type { EndPayload, ErrorCode, Usage } from '@agent-gateway/protocol';

/** How a request ended, as its end frame says. */
type EndOutcome =
  | { kind: 'finished'; finishReason: string | null }
  | { kind: 'interrupted'; reason: string; heardText?: string }
  | { kind: 'failed'; code: ErrorCode };

export interface EndFrameParts {
  requestId: string;
  outcome: EndOutcome;
  usage: Usage;
  timing: EndPayload['timing'];
  /** Audio frames the client was sent. */
  voiceFrames: number;
  ttsError?: ErrorCode;
}

/** The one frame every request ends with (a reply that ran here, or one whose instance died). */
export function endFrame({ requestId, outcome, usage, timing, voiceFrames, ttsError }: EndFrameParts): EndPayload {
  return {
    request_id: requestId,
    text_stream_seq: -1,
    voice_stream_seq: -1,
    content: {},
    interrupted: outcome.kind === 'interrupted',
    ...(outcome.kind === 'interrupted' && { interrupt_reason: outcome.reason }),
    ...(outcome.kind === 'finished' && { finish_reason: outcome.finishReason }),
    ...(outcome.kind === 'failed' && { error: { code: outcome.code } }),
    usage,
    timing,
    voice_frames: voiceFrames,
    ...(outcome.kind === 'interrupted' && outcome.heardText !== undefined && { heard_text: outcome.heardText }),
    ...(ttsError && { tts_error: { code: ttsError } }),
  };
}
