import { floatToPcm16 } from './pcm.js';
import { Resampler } from './resampler.js';

/** 20 ms: what the gateway's voice detector reads at a time, and short enough that a barge-in is heard at once. */
export const DEFAULT_CHUNK_MS = 20;

/**
 * What a microphone's samples go through before they are sent: resampled
 * from the capture rate (an AudioContext's, 48 kHz typically) to the
 * session's input rate, made 16-bit PCM, and cut into chunks of `chunkMs`.
 */
export class CaptureEncoder {
  private readonly resampler: Resampler;
  private readonly chunkSamples: number;
  /** Resampled samples not yet a whole chunk. */
  private pending = new Float32Array(0);

  constructor(captureRate: number, outputRate: number, chunkMs = DEFAULT_CHUNK_MS) {
    this.resampler = new Resampler(captureRate, outputRate);
    this.chunkSamples = Math.max(1, Math.round((outputRate * chunkMs) / 1000));
  }

  /** Captured samples in [-1, 1]; returns the chunks they complete (none, one or several). */
  push(samples: Float32Array): Uint8Array<ArrayBuffer>[] {
    return this.cut(this.resampler.push(samples), false);
  }

  /** The capture is over: what is left, as a last shorter chunk (or none). */
  flush(): Uint8Array<ArrayBuffer>[] {
    return this.cut(this.resampler.flush(), true);
  }

  private cut(resampled: Float32Array, last: boolean): Uint8Array<ArrayBuffer>[] {
    const all = new Float32Array(this.pending.length + resampled.length);
    all.set(this.pending);
    all.set(resampled, this.pending.length);
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let at = 0;
    for (; at + this.chunkSamples <= all.length; at += this.chunkSamples)
      chunks.push(floatToPcm16(all.subarray(at, at + this.chunkSamples)));
    this.pending = all.slice(at);
    if (last && this.pending.length > 0) {
      chunks.push(floatToPcm16(this.pending));
      this.pending = new Float32Array(0);
    }
    return chunks;
  }
}
