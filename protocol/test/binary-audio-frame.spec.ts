import { decodeAudioFrame, encodeAudioFrame, setAudioFrameSeq } from '../src/binary-audio-frame.js';

describe('binary audio frames', () => {
  it('round-trips request id, seqs and audio', () => {
    const audio = Uint8Array.from([1, 2, 3, 250]);
    const frame = encodeAudioFrame('req_é1', 70_000, audio, 12);
    expect([...frame.subarray(0, 2)]).toEqual([1, 7]); // kind, UTF-8 length of the id
    expect(decodeAudioFrame(frame)).toEqual({ requestId: 'req_é1', voiceStreamSeq: 70_000, seq: 12, audio });
    setAudioFrameSeq(frame, 4_000_000_000);
    expect(decodeAudioFrame(frame).seq).toBe(4_000_000_000);
  });

  it('decodes from a Buffer slice of a larger allocation', () => {
    const frame = encodeAudioFrame('r', 3, Uint8Array.from([9]));
    const pool = Buffer.alloc(64);
    Buffer.from(frame).copy(pool, 10);
    expect(decodeAudioFrame(pool.subarray(10, 10 + frame.length))).toMatchObject({ requestId: 'r', voiceStreamSeq: 3 });
  });

  it('refuses what is not an audio frame', () => {
    expect(() => decodeAudioFrame(Uint8Array.from([2, 1, 65, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(RangeError);
    expect(() => decodeAudioFrame(Uint8Array.from([1, 9, 65, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(RangeError);
  });
});
