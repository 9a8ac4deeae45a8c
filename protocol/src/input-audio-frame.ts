/**
 * A binary WebSocket frame of microphone audio, from a client that
 * registered with `audio_transport: "binary"` and `audio_input`. The header
 * is the audio frame's (binary-audio-frame.ts) with kind 0x02:
 *
 *   byte 0        frame kind, 0x02 = input audio
 *   byte 1        L, the byte length of the request_id (0–128)
 *   bytes 2…L+1   request_id, UTF-8: push-to-talk, a CONTINUE chunk of that
 *                 REQUEST (START and END stay JSON); L = 0 hands-free
 *   next 4 bytes  stream_seq, unsigned 32-bit big-endian (push-to-talk; 0 hands-free)
 *   next 4 bytes  reserved, 0
 *   the rest      PCM in the session's input format
 */
export const INPUT_AUDIO_FRAME_KIND = 0x02;

export interface InputAudioFrame {
  /** Absent hands-free. */
  requestId?: string;
  streamSeq: number;
  audio: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeInputAudioFrame(audio: Uint8Array, chunk: { requestId?: string; streamSeq?: number } = {}): Uint8Array {
  const id = encoder.encode(chunk.requestId ?? '');
  if (id.length > 128) throw new RangeError('request_id must be at most 128 bytes');
  const frame = new Uint8Array(2 + id.length + 8 + audio.length);
  frame[0] = INPUT_AUDIO_FRAME_KIND;
  frame[1] = id.length;
  frame.set(id, 2);
  new DataView(frame.buffer, frame.byteOffset).setUint32(2 + id.length, chunk.streamSeq ?? 0);
  frame.set(audio, 2 + id.length + 8);
  return frame;
}

export function decodeInputAudioFrame(frame: Uint8Array): InputAudioFrame {
  if (frame.length < 10 || frame[0] !== INPUT_AUDIO_FRAME_KIND) throw new RangeError('not an input audio frame');
  const idLength = frame[1];
  const seqAt = 2 + idLength;
  if (idLength > 128 || frame.length < seqAt + 8) throw new RangeError('truncated input audio frame');
  const requestId = idLength > 0 ? decoder.decode(frame.subarray(2, seqAt)) : undefined;
  return {
    ...(requestId !== undefined && { requestId }),
    streamSeq: new DataView(frame.buffer, frame.byteOffset).getUint32(seqAt),
    audio: frame.subarray(seqAt + 8),
  };
}
