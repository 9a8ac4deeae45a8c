import { CaptureEncoder } from '../src/audio/capture-encoder.js';

const tone = (rate: number, samples: number) =>
  Float32Array.from({ length: samples }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));

describe('CaptureEncoder: capture rate → 16-bit PCM at the session’s rate, in 20 ms chunks', () => {
  it('cuts 48 kHz audio, in render quanta of 128 frames, into chunks of 20 ms at 16 kHz', () => {
    const encoder = new CaptureEncoder(48_000, 16_000);
    const chunks: Uint8Array[] = [];
    const input = tone(48_000, 48_000);
    for (let at = 0; at < input.length; at += 128) chunks.push(...encoder.push(input.subarray(at, at + 128)));
    // 320 samples of 2 bytes each.
    expect(new Set(chunks.map((c) => c.length))).toEqual(new Set([640]));
    const last = encoder.flush();
    const total = chunks.length * 320 + last.reduce((sum, c) => sum + c.length / 2, 0);
    expect(total).toBe(16_000);
    // A whole second: 50 chunks of 20 ms, the last of them completed by the flush.
    expect(chunks.length + last.length).toBe(50);
  });

  it('makes the samples 16-bit: a tone at half scale peaks near 16384', () => {
    const encoder = new CaptureEncoder(48_000, 16_000);
    const chunks = [...encoder.push(tone(48_000, 9600)), ...encoder.flush()];
    const samples = chunks.flatMap((c) => [...new Int16Array(c.buffer, c.byteOffset, c.length / 2)]);
    const peak = Math.max(...samples.slice(200, -200));
    expect(peak).toBeGreaterThan(16_000);
    expect(peak).toBeLessThan(16_500);
  });

  it('emits nothing until a chunk is whole, and the rest at the end', () => {
    const encoder = new CaptureEncoder(16_000, 16_000, 20);
    expect(encoder.push(new Float32Array(300))).toEqual([]);
    expect(encoder.push(new Float32Array(30)).map((c) => c.length)).toEqual([640]);
    expect(encoder.flush().map((c) => c.length)).toEqual([20]);
    expect(encoder.flush()).toEqual([]);
  });

  it('takes another chunk length', () => {
    const encoder = new CaptureEncoder(24_000, 24_000, 40);
    expect(encoder.push(new Float32Array(960)).map((c) => c.length)).toEqual([1920]);
  });
});
