import libsamplerate from '@alexanderolsen/libsamplerate-js';

// A CommonJS module: its named exports are not visible to ESM imports.
const { ConverterType, create } = libsamplerate;

/** Converts one stream of mono samples to another rate, keeping its state between chunks. */
export interface Resampler {
  push(samples: Int16Array): Int16Array;
  close(): void;
}

const passThrough: Resampler = { push: (samples) => samples, close: () => undefined };

/**
 * libsamplerate (compiled to WebAssembly) with its fastest sinc converter:
 * band-limited, so 48 kHz microphones do not alias into the 16 kHz the VAD and
 * the recognizers read. Its streaming API keeps the filter's state from one
 * chunk to the next: no clicks at chunk edges.
 */
export async function createResampler(fromRate: number, toRate: number): Promise<Resampler> {
  if (fromRate === toRate) return passThrough;
  const src = await create(1, fromRate, toRate, { converterType: ConverterType.SRC_SINC_FASTEST });
  return {
    push(samples) {
      const input = new Float32Array(samples.length);
      for (let i = 0; i < samples.length; i++) input[i] = samples[i] / 32768;
      const output = src.full(input);
      const result = new Int16Array(output.length);
      for (let i = 0; i < output.length; i++) result[i] = Math.max(-32768, Math.min(32767, Math.round(output[i] * 32768)));
      return result;
    },
    close: () => src.destroy(),
  };
}
