import { pcm16ToChannels } from '../src/audio/pcm.js';

describe('PCM s16le for Web Audio', () => {
  it('splits interleaved samples into channels of floats in [-1, 1)', () => {
    const bytes = new Uint8Array(new Int16Array([0, 32767, -32768, 16384]).buffer);
    const [left, right] = pcm16ToChannels(bytes, 2);
    expect([...left]).toEqual([0, -1]);
    expect([...right]).toEqual([32767 / 32768, 0.5]);
  });

  it('reads from a view into a larger buffer, and ignores a sample cut in half', () => {
    const pool = new Uint8Array(16);
    pool.set(new Uint8Array(new Int16Array([8192, -8192]).buffer), 3);
    const [mono] = pcm16ToChannels(pool.subarray(3, 8), 1);
    expect([...mono]).toEqual([0.25, -0.25]);
  });
});
