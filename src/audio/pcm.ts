import { GatewayError } from '../common/gateway-error.js';

/**
 * 16-bit little-endian samples from a client's bytes. An odd byte count is not
 * whole samples: refused, not guessed at. The samples are copied, so that
 * they are aligned and no longer hold the socket's buffer.
 */
export function pcmSamples(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) throw new GatewayError('INVALID_AUDIO', { message: `${bytes.length} bytes are not whole 16-bit samples` });
  const samples = new Int16Array(bytes.length / 2);
  new Uint8Array(samples.buffer).set(bytes);
  return samples;
}

/** The bytes of base64 audio; `Buffer.from` skips what is not base64, so the schema has already refused that. */
export function base64Bytes(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

/** Samples as the little-endian bytes every engine reads. */
export function pcmBytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export function durationMs(samples: number, sampleRate: number): number {
  return (samples * 1000) / sampleRate;
}

/** The whole samples of bytes that may end mid-sample (a provider's chunk): the odd byte is left out. */
export function wholeSamples(bytes: Uint8Array): Int16Array {
  return pcmSamples(bytes.subarray(0, bytes.length - (bytes.length % 2)));
}
