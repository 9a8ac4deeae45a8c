import fc from 'fast-check';
import { JsonOverLimitError, parseInSlices } from './incremental-json.js';

const loose = { maxDepth: 1000, maxNodes: 1e9 };
const parse = (text: string, limits = loose) => parseInSlices(Buffer.from(text), limits);

describe('parseInSlices', () => {
  it('reads what JSON.parse reads, to the same value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 6 }), async (text) => {
        expect(await parse(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('refuses what JSON.parse refuses, with a SyntaxError', async () => {
    for (const text of ['{"a":', '[1,2', 'nope', '{"a" 1}', '']) await expect(parse(text)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('stops at the first token past a limit', async () => {
    await expect(parse(`${'['.repeat(65)}${']'.repeat(65)}`, { ...loose, maxDepth: 64 })).rejects.toEqual(new JsonOverLimitError('depth'));
    await expect(parse(`[${'1,'.repeat(10)}1]`, { ...loose, maxNodes: 10 })).rejects.toEqual(new JsonOverLimitError('nodes'));
    await expect(parse('{"a":[1,{"b":"x"}]}', { ...loose, maxNodes: 7 })).resolves.toEqual({ a: [1, { b: 'x' }] });
  });

  it('lets the event loop turn between slices of a large text', async () => {
    const text = `[${Array.from({ length: 200_000 }, () => '{}').join(',')}]`;
    let turns = 0;
    const counting = setInterval(() => (turns += 1), 0);
    const value = (await parse(text)) as unknown[];
    clearInterval(counting);
    expect(value).toHaveLength(200_000);
    // 600 kB in slices of 64 kB: the loop turned between them.
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
