/** Cuts a stream of samples into frames of one size (what the VAD reads), keeping the remainder for the next chunk. */
export class FrameSplitter {
  private pending = new Int16Array(0);

  constructor(private readonly frameSamples: number) {}

  push(samples: Int16Array): Int16Array[] {
    const all = this.pending.length === 0 ? samples : concat(this.pending, samples);
    const frames: Int16Array[] = [];
    let at = 0;
    for (; at + this.frameSamples <= all.length; at += this.frameSamples) frames.push(all.slice(at, at + this.frameSamples));
    this.pending = all.slice(at);
    return frames;
  }
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
