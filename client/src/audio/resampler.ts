export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side: longer is a sharper filter (more taps, more latency). Default 16. */
  zeroCrossings?: number;
  /** Where the pass band ends, as a fraction of the lower Nyquist frequency. Default 0.9. */
  rolloff?: number;
}

/** Past this many fractional positions, a position is rounded to the nearest of this many: 1/2048 of a sample is inaudible. */
const MAX_PHASES = 1024;

/**
 * Converts a stream of samples from one rate to another with a windowed-sinc
 * low-pass filter (Blackman window), so that a microphone at 48 kHz does not
 * fold its 8–24 kHz into the speech band at 16 kHz, as linear interpolation
 * would. Chunks may have any length: the output is the same as for one
 * chunk of everything, output sample n being the input at n·in/out seconds.
 *
 * The filter's taps are computed once per fractional position (rates in
 * common use have few: 48 k → 16 k has one, 44.1 k → 16 k 160).
 */
export class Resampler {
  /** The output position advances by `stepInt + stepFrac/denominator` input samples. */
  private readonly stepInt: number;
  private readonly stepFrac: number;
  private readonly denominator: number;
  private readonly halfWidth: number;
  /** The taps for each fractional position: `phases + 1` rows of `2 · halfWidth`. */
  private readonly taps: Float32Array[];
  private readonly phases: number;
  /** Input not yet behind every remaining output's filter; `buffer[0]` is input sample `bufferStart`. */
  private buffer: Float32Array = new Float32Array(0);
  private bufferStart: number;
  /** The next output's position in the input: `positionInt + positionFrac/denominator`. */
  private positionInt = 0;
  private positionFrac = 0;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    { zeroCrossings = 16, rolloff = 0.9 }: ResamplerOptions = {},
  ) {
    if (!(inputRate > 0 && outputRate > 0 && Number.isInteger(inputRate) && Number.isInteger(outputRate))) {
      throw new RangeError(`sample rates must be positive integers (got ${inputRate} → ${outputRate})`);
    }
    const common = gcd(inputRate, outputRate);
    const up = outputRate / common;
    const down = inputRate / common;
    this.denominator = up;
    this.stepInt = Math.floor(down / up);
    this.stepFrac = down % up;
    // Cycles per input sample where the pass band ends: below the lower of the two Nyquist frequencies.
    const cutoff = 0.5 * Math.min(1, outputRate / inputRate) * rolloff;
    this.halfWidth = Math.ceil(zeroCrossings / (2 * cutoff));
    this.phases = Math.min(up, MAX_PHASES);
    this.taps = Array.from({ length: this.phases + 1 }, (_, phase) => kernel(phase / this.phases, this.halfWidth, cutoff));
    // Silence before the first sample, so that the first outputs have a full filter to read.
    this.bufferStart = -(this.halfWidth - 1);
    this.buffer = new Float32Array(this.halfWidth - 1);
  }

  /** The outputs that the input so far determines (the last few wait for the input after them: see flush()). */
  push(input: Float32Array): Float32Array {
    if (this.inputRate === this.outputRate) return input.slice();
    this.buffer = concat(this.buffer, input);
    return this.drain();
  }

  /** The end of the stream: the outputs still waiting, as if silence followed. The resampler starts over after it. */
  flush(): Float32Array {
    if (this.inputRate === this.outputRate) return new Float32Array(0);
    const end = this.bufferStart + this.buffer.length;
    // Outputs up to the last input sample's time, no further: the silence only completes their filters.
    this.buffer = concat(this.buffer, new Float32Array(this.halfWidth));
    const out = this.drain(end);
    this.buffer = new Float32Array(this.halfWidth - 1);
    this.bufferStart = -(this.halfWidth - 1);
    this.positionInt = this.positionFrac = 0;
    return out;
  }

  private drain(until = Number.POSITIVE_INFINITY): Float32Array {
    const out: number[] = [];
    const width = 2 * this.halfWidth;
    const end = this.bufferStart + this.buffer.length;
    // Output at position p reads inputs p-halfWidth+1 … p+halfWidth.
    while (this.positionInt + this.halfWidth < end && this.positionInt < until) {
      const phase = this.phases === this.denominator ? this.positionFrac : Math.round((this.positionFrac * this.phases) / this.denominator);
      const taps = this.taps[phase];
      const first = this.positionInt - this.halfWidth + 1 - this.bufferStart;
      let sum = 0;
      for (let i = 0; i < width; i++) sum += this.buffer[first + i] * taps[i];
      out.push(sum);
      this.positionInt += this.stepInt;
      this.positionFrac += this.stepFrac;
      if (this.positionFrac >= this.denominator) {
        this.positionFrac -= this.denominator;
        this.positionInt += 1;
      }
    }
    // Keep what the next output's filter reads, and nothing before.
    const keepFrom = Math.max(0, Math.min(this.buffer.length, this.positionInt - this.halfWidth + 1 - this.bufferStart));
    this.buffer = this.buffer.slice(keepFrom);
    this.bufferStart += keepFrom;
    return Float32Array.from(out);
  }
}

/**
 * The low-pass filter's taps for an output `fraction` of a sample after an
 * input sample: a sinc at `cutoff` cycles per sample under a Blackman
 * window, normalized so that a constant stays the same constant.
 */
function kernel(fraction: number, halfWidth: number, cutoff: number): Float32Array {
  const taps = new Float32Array(2 * halfWidth);
  let sum = 0;
  for (let i = 0; i < taps.length; i++) {
    // Distance, in input samples, from the output's position to tap i's sample.
    const x = i - halfWidth + 1 - fraction;
    const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x * 2 * cutoff);
    const w = Math.abs(x) >= halfWidth ? 0 : blackman(x / halfWidth);
    taps[i] = sinc * w;
    sum += taps[i];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** The Blackman window at `t` in (-1, 1), 1 at its centre. */
function blackman(t: number): number {
  return 0.42 + 0.5 * Math.cos(Math.PI * t) + 0.08 * Math.cos(2 * Math.PI * t);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
