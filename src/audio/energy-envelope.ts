/** The loudness of each 20 ms of audio (log mean square): what survives a speaker, a room and a microphone. */
export function frameEnergies(samples: Int16Array, sampleRate: number, frameMs = 20): number[] {
  const size = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  const energies: number[] = [];
  for (let at = 0; at + size <= samples.length; at += size) {
    let sum = 0;
    for (let i = at; i < at + size; i++) sum += samples[i] * samples[i];
    energies.push(Math.log10(sum / size + 1));
  }
  return energies;
}

/**
 * How well `heard` follows `reference` at the best delay (Pearson
 * correlation of the loudness envelopes, −1…1), `heard` lying wholly within
 * `reference`: the agent's own audio coming back through the microphone
 * follows the audio the gateway sent, word by word, whatever a recognizer
 * makes of it. Shorter than half a second, nothing is told apart (−1).
 */
export function envelopeMatch(heard: readonly number[], reference: readonly number[]): number {
  let best = -1;
  if (heard.length < 25) return best;
  for (let lag = 0; lag + heard.length <= reference.length; lag++)
    best = Math.max(best, correlation(heard, reference, 0, heard.length, lag));
  return best;
}

function correlation(a: readonly number[], b: readonly number[], from: number, to: number, lag: number): number {
  const n = to - from;
  let sa = 0;
  let sb = 0;
  for (let i = from; i < to; i++) {
    sa += a[i];
    sb += b[i + lag];
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = from; i < to; i++) {
    const da = a[i] - ma;
    const db = b[i + lag] - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}
