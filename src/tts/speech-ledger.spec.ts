import { SpeechLedger } from './speech-ledger.js';

describe('SpeechLedger', () => {
  /** Two segments of 1 s each, in 250 ms frames: seqs 0–3 speak the first, 4–7 the second. */
  function twoSegments(): SpeechLedger {
    const ledger = new SpeechLedger();
    for (let i = 0; i < 4; i++) ledger.recordChunk(0, 'One two three four.', 250);
    ledger.completeSegment(0);
    for (let i = 0; i < 4; i++) ledger.recordChunk(1, 'Five six seven eight.', 250);
    ledger.completeSegment(1);
    return ledger;
  }

  it('numbers frames from 0', () => {
    const ledger = new SpeechLedger();
    expect(ledger.recordChunk(0, 'a', 10)).toBe(0);
    expect(ledger.recordChunk(0, 'a', 10)).toBe(1);
    expect(ledger.chunkCount).toBe(2);
  });

  it('knows nothing until the client reports its playback', () => {
    expect(twoSegments().heardText()).toBeUndefined();
  });

  it('cuts the text at the word being spoken when the client stopped', () => {
    const ledger = twoSegments();
    ledger.reportPlayed({ voice_stream_seq: 1, played_ms: 250 }); // half of the first sentence
    expect(ledger.heardText()).toBe('One two');
    ledger.reportPlayed({ voice_stream_seq: 5, played_ms: 0 }); // first sentence, a quarter of the second
    expect(ledger.heardText()).toBe('One two three four. Five');
  });

  it('keeps the furthest position and clamps one past the end', () => {
    const ledger = twoSegments();
    ledger.reportPlayed({ voice_stream_seq: 6, played_ms: 0 });
    ledger.reportPlayed({ voice_stream_seq: 2, played_ms: 100 });
    expect(ledger.heardText()).toBe('One two three four. Five six');
    ledger.reportPlayed({ voice_stream_seq: 99, played_ms: 0 });
    expect(ledger.heardText()).toBe('One two three four. Five six seven eight.');
  });

  it('estimates the length of a segment whose synthesis was cut', () => {
    const ledger = new SpeechLedger();
    // 41 characters at ~65 ms each is ~2.7 s; only 1.3 s had been synthesized before the interrupt.
    ledger.recordChunk(0, 'The lighthouse keeper climbed the stairs.', 1300);
    ledger.reportPlayed({ voice_stream_seq: 0, played_ms: 1300 });
    expect(ledger.heardText()).toBe('The lighthouse');
  });

  it('joins Chinese segments without spaces', () => {
    const ledger = new SpeechLedger();
    ledger.recordChunk(0, '你好。', 500);
    ledger.completeSegment(0);
    ledger.recordChunk(1, '今天天气很好。', 500);
    ledger.completeSegment(1);
    ledger.reportPlayed({ voice_stream_seq: 1, played_ms: 500 });
    expect(ledger.heardText()).toBe('你好。今天天气很好。');
  });

  it('forgets the frames dropped before they were sent, and hears no further', () => {
    const ledger = twoSegments();
    ledger.truncate(6); // frames 6 and 7 never left
    expect(ledger.chunkCount).toBe(6);
    ledger.truncate(2); // half of the first sentence was sent; its whole length (1 s) is known
    expect(ledger.chunkCount).toBe(2);
    ledger.reportPlayed({ voice_stream_seq: 7, played_ms: 0 }); // past the end: clamped to what was sent
    expect(ledger.heardText()).toBe('One two');
    ledger.truncate(0);
    expect(ledger.heardText()).toBe('');
  });

  it('still knows how long a cut segment is from the audio synthesized for it, sent or not', () => {
    const ledger = new SpeechLedger();
    // 2.4 s synthesized for a 21-character sentence (estimated at ~1.4 s); only the first 0.8 s was sent.
    for (let i = 0; i < 6; i++) ledger.recordChunk(0, 'Five six seven eight.', 400);
    ledger.truncate(2);
    ledger.reportPlayed({ voice_stream_seq: 1, played_ms: 400 });
    expect(ledger.heardText()).toBe('Five');
  });
});
