import fc from 'fast-check';
import { type SegmentEvent, SpeechSegmenter } from './speech-segmenter.js';

const run = (pattern: string, startMs = 60, silenceMs = 100): SegmentEvent[] => {
  const segmenter = new SpeechSegmenter({ frameMs: 20, startMs, silenceMs });
  return Array.from({ length: pattern.length }, (_, i) => segmenter.push(pattern[i] === '1') ?? []).flat();
};

describe('SpeechSegmenter', () => {
  it('starts at the first of enough voiced frames in a row and stops after enough silence, at the end of the voice', () => {
    expect(run('00111110000000')).toEqual([
      { type: 'start', startMs: 40 },
      { type: 'stop', endMs: 140 },
    ]);
  });

  it('ignores clicks shorter than the onset and breaths shorter than the silence', () => {
    expect(run('0110010011100110000000')).toEqual([
      { type: 'start', startMs: 160 },
      { type: 'stop', endMs: 300 },
    ]);
  });

  it('alternates start and stop, each stop after its start, for any input', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 400 }), (frames) => {
        const events = run(frames.map((v) => (v ? '1' : '0')).join(''));
        events.forEach((event, i) => {
          expect(event.type).toBe(i % 2 === 0 ? 'start' : 'stop');
          if (event.type === 'stop') {
            const start = events[i - 1];
            expect(start.type === 'start' && start.startMs < event.endMs).toBe(true);
          }
        });
      }),
    );
  });
});
