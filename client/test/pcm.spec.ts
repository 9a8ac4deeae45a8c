import { floatToPcm16, pcm16ToChannels } from '../src/audio/pcm.js';
import { fromBase64, toBase64 } from '../src/base64.js';

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

  it('makes floats 16-bit little-endian samples, clipping what is too loud', () => {
    const bytes = floatToPcm16(Float32Array.from([0, 0.5, -0.5, 1, -1, 1.7, -3]));
    expect([...new Int16Array(bytes.buffer)]).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768]);
    expect([...bytes.subarray(2, 4)]).toEqual([0x00, 0x40]);
  });

  it('goes there and back: floats → PCM → floats, within two steps of 16 bits (the positive half is scaled by 32767, read back by 32768)', () => {
    const samples = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i) * 0.9);
    const [back] = pcm16ToChannels(floatToPcm16(samples), 1);
    back.forEach((sample, i) => expect(Math.abs(sample - samples[i])).toBeLessThanOrEqual(2 / 32768));
  });
});

describe('base64', () => {
  it('encodes what it decodes, also past the size String.fromCharCode takes in one call', () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256);
    const text = toBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromBase64(text)).toEqual(bytes);
    expect(toBase64(new Uint8Array(0))).toBe('');
  });
});
