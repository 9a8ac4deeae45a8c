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

  it('counts chunks of a call that was cut, on top of the reported ones', () => {
    const meter = new UsageMeter();
    meter.startRound();
    meter.observe(usage(10, 3));
    meter.startRound();
    meter.observe({ type: 'text', text: 'a' });
    meter.observe({ type: 'reasoning', text: 'b' });
    meter.observe({ type: 'finish', reason: null });
    expect(meter.toUsage()).toEqual({ prompt_tokens: null, completion_tokens: 5, total_tokens: null, source: 'counted' });
    expect(meter.completionTokens).toBe(5);
  });

  it('counts from zero before any call', () => {
    expect(new UsageMeter().toUsage()).toEqual({ prompt_tokens: null, completion_tokens: 0, total_tokens: null, source: 'counted' });
  });
});
