import fc from 'fast-check';
import { Resampler } from '../src/audio/resampler.js';

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

const rms = (samples: Float32Array) => Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);

/** Everything through one resampler, in one push and a flush. */
const resample = (input: Float32Array, from: number, to: number) => {
  const resampler = new Resampler(from, to);
  return Float32Array.from([...resampler.push(input), ...resampler.flush()]);
};

/** The middle of a signal, away from the filter's start and end. */
const middle = (samples: Float32Array, margin: number) => samples.subarray(margin, samples.length - margin);

describe('Resampler (windowed sinc)', () => {
  it.each([
    [48_000, 16_000],
    [44_100, 16_000],
    [32_000, 16_000],
    [8_000, 16_000],
    [22_050, 24_000],
    // Coprime: 16 000 fractional positions, rounded to the nearest of 1024.
    [47_999, 16_000],
  ])('keeps a 1 kHz tone a 1 kHz tone, %i → %i Hz, with no loss of level', (from, to) => {
    const input = tone(1000, from, 0.5);
    const out = resample(input, from, to);
    // One output for each of its instants within the input: 0, from/to, 2·from/to… input samples.
    expect(out.length).toBe(Math.ceil((input.length * to) / from));
    const expected = tone(1000, to, 0.5);
    const error = middle(out, 200).map((s, i) => s - expected[i + 200]);
    // Less than 0.1 % of the tone's level off, sample by sample.
    expect(rms(error)).toBeLessThan(0.0005);
    expect(rms(middle(out, 200))).toBeCloseTo(0.5 / Math.SQRT2, 3);
  });

  it('keeps speech frequencies up to the pass band’s edge (3.4 kHz at 16 kHz)', () => {
    const out = resample(tone(3400, 48_000, 0.5), 48_000, 16_000);
    expect(rms(middle(out, 200)) / (0.5 / Math.SQRT2)).toBeGreaterThan(0.99);
  });

  it.each([12_000, 9_000, 20_000])(
    'does not fold a %i Hz tone, above the new Nyquist frequency, into the speech band (48 → 16 kHz)',
    (hz) => {
      // Linear interpolation would keep most of it, folded to 4 kHz (12 kHz), 7 kHz or 4 kHz.
      const out = resample(tone(hz, 48_000, 0.5), 48_000, 16_000);
      expect(rms(middle(out, 200))).toBeLessThan(0.005);
    },
  );

  it('passes samples through untouched between equal rates', () => {
    const input = tone(440, 16_000, 0.1);
    const resampler = new Resampler(16_000, 16_000);
    expect(resampler.push(input)).toEqual(input);
    expect(resampler.flush()).toEqual(new Float32Array(0));
  });

  it('gives the same samples however the input is cut into chunks', () => {
    const input = tone(700, 44_100, 0.05);
    const whole = resample(input, 44_100, 16_000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 12 }), (sizes) => {
        const resampler = new Resampler(44_100, 16_000);
        const out: number[] = [];
        let at = 0;
        for (const size of sizes) {
          out.push(...resampler.push(input.subarray(at, at + size)));
          at = Math.min(input.length, at + size);
        }
        out.push(...resampler.push(input.subarray(at)), ...resampler.flush());
        // Byte for byte (jest's toEqual walks typed arrays slowly).
        return Buffer.from(Float32Array.from(out).buffer).equals(Buffer.from(whole.buffer));
      }),
      { numRuns: 50 },
    );
  });

  it('starts over after flush(), as a new resampler would', () => {
    const resampler = new Resampler(48_000, 16_000);
    const input = tone(500, 48_000, 0.05);
    const first = [...resampler.push(input), ...resampler.flush()];
    const second = [...resampler.push(input), ...resampler.flush()];
    expect(second).toEqual(first);
  });

  it('keeps a constant constant, exactly: each position’s taps sum to one', () => {
    const out = resample(new Float32Array(9600).fill(0.25), 48_000, 16_000);
    for (const sample of middle(out, 100)) expect(sample).toBeCloseTo(0.25, 5);
  });

  it('refuses rates that are not positive integers', () => {
    expect(() => new Resampler(0, 16_000)).toThrow(RangeError);
    expect(() => new Resampler(44_100.5, 16_000)).toThrow(RangeError);
  });
});
