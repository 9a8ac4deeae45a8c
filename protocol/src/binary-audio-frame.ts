/**
 * A binary WebSocket frame carrying audio, for clients that registered with
 * `audio_transport: "binary"` (a third smaller than base64 in JSON, and no
 * decoding on the client):
 *
 *   byte 0        frame kind, 0x01 = audio
 *   byte 1        L, the byte length of the request_id (1–128)
 *   bytes 2…L+1   request_id, UTF-8
 *   next 4 bytes  voice_stream_seq, unsigned 32-bit big-endian
 *   next 4 bytes  seq, the session's frame number (as in JSON envelopes), unsigned 32-bit big-endian
 *   the rest      the audio bytes, in the format announced in REGISTER_ACK.tts.audio_format
 *
 * Uses only Uint8Array and DataView, so the same code runs in browsers.
 */
export const AUDIO_FRAME_KIND = 0x01;

export interface BinaryAudioFrame {
  requestId: string;
  voiceStreamSeq: number;
  seq: number;
  audio: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeAudioFrame(requestId: string, voiceStreamSeq: number, audio: Uint8Array, seq = 0): Uint8Array {
  const id = encoder.encode(requestId);
  if (id.length === 0 || id.length > 255) throw new RangeError('request_id must be 1–255 bytes');
  const frame = new Uint8Array(2 + id.length + 8 + audio.length);
  frame[0] = AUDIO_FRAME_KIND;
  frame[1] = id.length;
  frame.set(id, 2);
  const view = new DataView(frame.buffer, frame.byteOffset);
  view.setUint32(2 + id.length, voiceStreamSeq);
  view.setUint32(2 + id.length + 4, seq);
  frame.set(audio, 2 + id.length + 8);
  return frame;
}

/** Writes the session frame number into an encoded frame (it is only known when the frame is sent). */
export function setAudioFrameSeq(frame: Uint8Array, seq: number): void {
  new DataView(frame.buffer, frame.byteOffset).setUint32(2 + frame[1] + 4, seq);
}

export function decodeAudioFrame(frame: Uint8Array): BinaryAudioFrame {
  if (frame.length < 11 || frame[0] !== AUDIO_FRAME_KIND) throw new RangeError('not an audio frame');
  const idLength = frame[1];
  const voiceAt = 2 + idLength;
  if (frame.length < voiceAt + 8) throw new RangeError('truncated audio frame');
  const view = new DataView(frame.buffer, frame.byteOffset);
  return {
    requestId: decoder.decode(frame.subarray(2, voiceAt)),
    voiceStreamSeq: view.getUint32(voiceAt),
    seq: view.getUint32(voiceAt + 4),
    audio: frame.subarray(voiceAt + 8),
  };
}
