/**
 * Signed 16-bit little-endian interleaved samples to one Float32Array per
 * channel, as Web Audio's AudioBuffer takes them. A trailing odd byte (a
 * frame cut mid-sample) is ignored.
 */
export function pcm16ToChannels(bytes: Uint8Array, channels: number): Float32Array<ArrayBuffer>[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = Math.floor(bytes.byteLength / 2 / channels);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let frame = 0; frame < frames; frame++) {
    for (let channel = 0; channel < channels; channel++) {
      out[channel][frame] = view.getInt16((frame * channels + channel) * 2, true) / 32768;
    }
  }
  return out;
}

/**
 * Samples in [-1, 1] to signed 16-bit little-endian bytes, what the gateway
 * takes from a microphone. Louder is clipped rather than wrapped around.
 */
export function floatToPcm16(samples: Float32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) {
    const clipped = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(i * 2, Math.round(clipped < 0 ? clipped * 32768 : clipped * 32767), true);
  }
  return bytes;
}
