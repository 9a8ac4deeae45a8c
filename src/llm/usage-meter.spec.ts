import { countPromptTokens, countTextTokens } from './token-count.js';
import { UsageMeter } from './usage-meter.js';

const usage = (prompt: number, completion: number) => ({
  type: 'usage' as const,
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});

describe('UsageMeter', () => {
  it('takes the provider figure when every call reported one', () => {
    const meter = new UsageMeter();
    meter.startRound();
    meter.observe({ type: 'text', text: 'a' });
    meter.observe(usage(10, 3));
    meter.startRound();
    meter.observe({ type: 'tool_call', index: 0, id: 'c', name: 'f' });
    meter.observe(usage(20, 5));
    expect(meter.toUsage()).toEqual({ prompt_tokens: 30, completion_tokens: 8, total_tokens: 38, source: 'provider' });
  });

  it('counts a call that was cut with the tokenizer (its prompt only for the record), on top of the reported ones, and marks the whole estimated', () => {
    const meter = new UsageMeter();
    meter.startRound();
    meter.observe(usage(10, 3));
    const prompt = { messages: [{ role: 'user' as const, content: 'What is the capital of France?' }] };
    meter.startRound(prompt);
    meter.observe({ type: 'text', text: 'The capital of France' });
    meter.observe({ type: 'reasoning', text: ' is Paris.' });
    expect(meter.finished).toBe(false);
    meter.observe({ type: 'finish', reason: null });
    expect(meter.finished).toBe(true);
    const generated = countTextTokens('The capital of France is Paris.');
    expect(meter.toUsage()).toEqual({ prompt_tokens: null, completion_tokens: 3 + generated, total_tokens: null, source: 'estimated' });
    expect(meter.toRecordUsage()).toEqual({
      prompt_tokens: 10 + countPromptTokens(prompt.messages),
      completion_tokens: 3 + generated,
      total_tokens: 10 + countPromptTokens(prompt.messages) + 3 + generated,
      source: 'estimated',
    });
    // The running figure counts chunks: the tokenizer runs once, for the usage.
    expect(meter.completionTokens).toBe(3 + 2);
  });

  it('leaves the prompt unknown when a round’s prompt was not given and its usage never came', () => {
    const meter = new UsageMeter();
    meter.startRound();
    meter.observe({ type: 'text', text: 'hello there' });
    expect(meter.toUsage()).toEqual({ prompt_tokens: null, completion_tokens: 2, total_tokens: null, source: 'estimated' });
  });

  it('counts from zero before any call', () => {
    expect(new UsageMeter().toUsage()).toEqual({ prompt_tokens: null, completion_tokens: 0, total_tokens: null, source: 'estimated' });
  });
});
