import { decodeAudioFrame } from '@agent-gateway/protocol';
import type { LoggedFrame } from './event-log.js';

/** How many text and audio frames of one request a session's log holds: what its client was sent. */
export function countFrames(frames: LoggedFrame[], requestId: string): { text_frames: number; voice_frames: number } {
  let text = 0;
  let voice = 0;
  for (const { data } of frames) {
    if (typeof data !== 'string') {
      if (decodeAudioFrame(data).requestId === requestId) voice += 1;
      continue;
    }
    const envelope = JSON.parse(data) as { msg_type: string; payload: { request_id?: string; text_stream_seq?: number; voice_stream_seq?: number } };
    if (envelope.msg_type !== 'RESPONSE' || envelope.payload.request_id !== requestId) continue;
    const { text_stream_seq: textSeq, voice_stream_seq: voiceSeq } = envelope.payload;
    if (textSeq !== undefined && textSeq >= 0) text += 1;
    else if (textSeq === undefined && voiceSeq !== undefined) voice += 1;
  }
  return { text_frames: text, voice_frames: voice };
}
