import { countPromptTokens, countPromptTokensYielding, countTextTokens } from './token-count.js';

describe('token counts', () => {
  it('counts special-token text as text, never throwing on what a client wrote', () => {
    expect(countTextTokens('hi <|endoftext|> <|im_start|>')).toBeGreaterThan(5);
    expect(countPromptTokens([{ role: 'user', content: 'hi <|endoftext|>' }])).toBeGreaterThan(5);
  });

  it('counts a prompt of megabytes in slices, close to the whole count', async () => {
    const long = [{ role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog. '.repeat(20_000) }];
    const whole = countPromptTokens([...long]);
    const sliced = await countPromptTokensYielding(long);
    expect(Math.abs(sliced - whole) / whole).toBeLessThan(0.001);
  });

  it('counts as OpenAI’s chat format does, and a long run of one letter in bounded time', () => {
    // The figures encodeChat gives for these (gpt-4o).
    expect(countPromptTokens([{ role: 'user', content: 'hello' }])).toBe(8);
    const chat = [
      { role: 'system' as const, content: 'You are helpful.' },
      { role: 'user' as const, content: 'What is the capital of France?' },
      { role: 'assistant' as const, content: 'Paris.' },
    ];
    expect(countPromptTokens(chat)).toBe(28);
    const startedAt = performance.now();
    const tokens = countTextTokens('x'.repeat(2 * 1024 * 1024));
    expect(tokens).toBeGreaterThan(200_000);
    // Linear: 2 MB of one letter would take half an hour whole; sliced it is well under a few seconds even on a loaded machine.
    expect(performance.now() - startedAt).toBeLessThan(10_000);
  });

  it('counts a prompt once, however often it is asked', () => {
    const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
    const first = countPromptTokens(messages);
    messages.push({ role: 'user', content: 'A much longer question that would change the count if it were counted again' });
    expect(countPromptTokens(messages)).toBe(first);
    expect(countPromptTokens([...messages])).toBeGreaterThan(first);
  });
});
