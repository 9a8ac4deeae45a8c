import { SentenceSegmenter } from './sentence-segmenter.js';

const options = { minChars: 6, maxChars: 80, firstMinChars: 10 };

/** Feeds text in small pieces, as a model streams it, and collects every segment. */
function segmentStream(text: string, pieceLength = 3, opts = options): string[] {
  const segmenter = new SentenceSegmenter(opts);
  const segments: string[] = [];
  for (let i = 0; i < text.length; i += pieceLength) segments.push(...segmenter.push(text.slice(i, i + pieceLength)));
  segments.push(...segmenter.end());
  return segments;
}

describe('SentenceSegmenter', () => {
  it('cuts English into sentences, flushing the first clause early', () => {
    expect(
      segmentStream('Once upon a time, in a harbour town, there lived a keeper. She loved the quiet hours! Did she sleep? No.'),
    ).toEqual(['Once upon a time,', 'in a harbour town, there lived a keeper.', 'She loved the quiet hours!', 'Did she sleep?', 'No.']);
  });

  it('cuts Chinese at 。！？；and ellipses, without waiting for more text', () => {
    const segmenter = new SentenceSegmenter(options);
    expect(segmenter.push('很久以前，在一个海港小镇上')).toEqual([]);
    expect(segmenter.push('住着一位灯塔看守人。')).toEqual(['很久以前，在一个海港小镇上住着一位灯塔看守人。']);
    expect(segmenter.push('她真的不睡觉吗？')).toEqual(['她真的不睡觉吗？']);
    expect(segmenter.push('其实原因很简单；她喜欢安静……')).toEqual(['其实原因很简单；', '她喜欢安静……']);
    expect(segmenter.push('好！')).toEqual([]);
    expect(segmenter.end()).toEqual(['好！']);
  });

  it('flushes the first Chinese clause at a full-width comma', () => {
    expect(segmentStream('这是网关内置的模拟模型给出的，一段较长回答。')).toEqual(['这是网关内置的模拟模型给出的，', '一段较长回答。']);
  });

  it('joins sentences shorter than minChars to the next one, and does not end one at a title', () => {
    expect(segmentStream('Hello there, friend of mine. OK. Mr. Smith went home. Yes.')).toEqual([
      'Hello there,',
      'friend of mine.',
      'OK. Mr. Smith went home.',
      'Yes.',
    ]);
  });

  it('waits for what follows an English full stop, unless it is already a space', () => {
    const segmenter = new SentenceSegmenter(options);
    expect(segmenter.push('It costs 3.')).toEqual([]);
    expect(segmenter.push('50 dollars today.')).toEqual([]);
    expect(segmenter.push(' ')).toEqual(['It costs 3.50 dollars today.']);
    expect(segmenter.push('Ask Mr. ')).toEqual([]);
    expect(segmenter.push('Smith! ')).toEqual(['Ask Mr. Smith!']);
  });

  it('cuts a run without sentence ends at a clause break or a space before maxChars', () => {
    const opts = { minChars: 6, maxChars: 30, firstMinChars: 100 };
    const segments = segmentStream('one two three four five six seven eight nine ten eleven twelve thirteen', 4, opts);
    expect(segments.every((s) => s.length <= 30)).toBe(true);
    expect(segments.join(' ')).toBe('one two three four five six seven eight nine ten eleven twelve thirteen');
    const cjk = segmentStream('这'.repeat(70), 7, opts);
    expect(cjk.map((s) => s.length)).toEqual([30, 30, 10]);
  });

  it('loses no text, whatever the piece size', () => {
    const text = 'First, a clause. Then 你好，世界！ and more; still more… end';
    for (const size of [1, 2, 5, 13, 100]) {
      expect(segmentStream(text, size).join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    }
  });
});
