import { from, lastValueFrom, toArray } from 'rxjs';
import { languageOf } from '../common/language-of.js';
import { rechunk, segmentSentences } from './speech-operators.js';

describe('segmentSentences', () => {
  it('emits sentences as the text streams and the remainder when it completes', async () => {
    const segments = await lastValueFrom(
      from(['Hello', ' there. How', ' are you', '? Fine']).pipe(
        segmentSentences({ minChars: 3, maxChars: 100, firstMinChars: 50 }),
        toArray(),
      ),
    );
    expect(segments).toEqual(['Hello there.', 'How are you?', 'Fine']);
  });
});

describe('rechunk', () => {
  it('cuts a byte stream into equal pieces and keeps the tail', async () => {
    const pieces = await lastValueFrom(
      from([Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6, 7, 8]), Buffer.from([9])]).pipe(rechunk(4), toArray()),
    );
    expect(pieces.map((p) => [...p])).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
  });
});

describe('languageOf', () => {
  it('tells Chinese from English', () => {
    expect(languageOf('你好，世界')).toBe('zh');
    expect(languageOf('Hello, world')).toBe('en');
  });
});
