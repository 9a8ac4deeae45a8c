import { EventLog } from './event-log.js';

describe('EventLog', () => {
  const limits = { maxFrames: 3, maxBytes: 1000, maxAgeMs: 60_000 };

  it('replays the frames after a sequence number', () => {
    const log = new EventLog(limits);
    log.append(1, 'a', 1);
    log.append(2, 'b', 1);
    log.append(3, 'c', 1);
    expect(log.since(1)).toEqual({ frames: [expect.objectContaining({ seq: 2 }), expect.objectContaining({ seq: 3 })], gap: false });
    expect(log.since(3)).toEqual({ frames: [], gap: false });
    expect(log.lastSeq).toBe(3);
  });

  it('says when it no longer reaches back far enough', () => {
    const log = new EventLog(limits);
    for (let seq = 1; seq <= 5; seq++) log.append(seq, String(seq), String(seq).length);
    expect(log.since(0).gap).toBe(true);
    expect(log.since(1).gap).toBe(true);
    expect(log.since(2)).toMatchObject({ gap: false, frames: [{ seq: 3 }, { seq: 4 }, { seq: 5 }] });
    expect(log.since(5)).toEqual({ frames: [], gap: false });
  });

  it('is bounded by bytes and age too, keeping at least the latest frame', () => {
    const bytes = new EventLog({ maxFrames: 100, maxBytes: 10, maxAgeMs: 60_000 });
    bytes.append(1, 'xxxxxx', 6);
    bytes.append(2, 'yyyyyy', 6);
    expect(bytes.since(0).frames.map((f) => f.seq)).toEqual([2]);
    const big = new EventLog({ maxFrames: 100, maxBytes: 1, maxAgeMs: 60_000 });
    big.append(1, 'too big for the log', 19);
    expect(big.since(0).frames.map((f) => f.seq)).toEqual([1]);
  });

  it('tells listeners about each frame', () => {
    const log = new EventLog(limits);
    const seen: number[] = [];
    log.appended$.subscribe((frame) => seen.push(frame.seq));
    log.append(1, 'a', 1);
    log.append(2, 'b', 1);
    expect(seen).toEqual([1, 2]);
  });
});
