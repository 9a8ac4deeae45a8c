import { lastValueFrom, toArray } from 'rxjs';
import type { LlmEvent } from './llm-events.js';
import { SimulatedProvider } from './simulated.provider.js';

const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const textOf = (events: LlmEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('');

describe('SimulatedProvider', () => {
  it('streams the configured number of tokens, then finish and usage', async () => {
    const provider = new SimulatedProvider({ tokensPerSecond: 1000, firstTokenDelayMs: 0, replyTokens: 12 });
    const events = await lastValueFrom(provider.stream(ask('hello')).pipe(toArray()));
    expect(events.filter((e) => e.type === 'text')).toHaveLength(12);
    expect(events.slice(-2)).toEqual([
      { type: 'finish', reason: 'stop' },
      // The prompt as OpenAI counts it: "hello" and the framing of one message.
      { type: 'usage', usage: { prompt_tokens: 8, completion_tokens: 12, total_tokens: 20 } },
    ]);
    expect(textOf(events)).toMatch(/^Here is a longer answer, streamed/);
  });

  it('keeps words whole and punctuation attached, in English and Chinese', async () => {
    const provider = new SimulatedProvider({ tokensPerSecond: 1000, firstTokenDelayMs: 0, replyTokens: 8 });
    const english = (await lastValueFrom(provider.stream(ask('hi')).pipe(toArray()))).filter((e) => e.type === 'text');
    expect(english.slice(0, 3)).toEqual([
      { type: 'text', text: 'Here ' },
      { type: 'text', text: 'is ' },
      { type: 'text', text: 'a ' },
    ]);
    const chinese = await lastValueFrom(provider.stream(ask('你好')).pipe(toArray()));
    expect(textOf(chinese)).toMatch(/^这是网关/);
  });

  it('stops producing the moment it is unsubscribed', async () => {
    const provider = new SimulatedProvider({ tokensPerSecond: 500, firstTokenDelayMs: 0, replyTokens: 1000 });
    const seen: LlmEvent[] = [];
    const subscription = provider.stream(ask('hi')).subscribe((e) => seen.push(e));
    await new Promise((resolve) => setTimeout(resolve, 30));
    subscription.unsubscribe();
    const count = seen.length;
    expect(count).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(count);
  });
});

describe('SimulatedProvider with tools', () => {
  const provider = new SimulatedProvider({ tokensPerSecond: 1000, firstTokenDelayMs: 0, replyTokens: 5 });
  const timeTool = {
    type: 'function' as const,
    function: { name: 'get_current_time', parameters: { type: 'object' } },
  };

  it('calls get_current_time when asked for the time and the tool is offered', async () => {
    const events = await lastValueFrom(
      provider.stream({ messages: [{ role: 'user', content: 'What time is it?' }], tools: [timeTool] }).pipe(toArray()),
    );
    expect(events[0]).toMatchObject({ type: 'tool_call', index: 0, name: 'get_current_time', arguments: '{}' });
    expect(events.at(-2)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('reads the tool result out, and answers normally without the tool', async () => {
    const answer = await lastValueFrom(
      provider
        .stream({
          messages: [
            { role: 'user', content: 'What time is it?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_current_time', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'c1', content: JSON.stringify({ local: 'Saturday 21 November 2026 at 10:00:00 UTC' }) },
          ],
          tools: [timeTool],
        })
        .pipe(toArray()),
    );
    expect(textOf(answer)).toBe('It is Saturday 21 November 2026 at 10:00:00 UTC.');
    const plain = await lastValueFrom(provider.stream(ask('What time is it?')).pipe(toArray()));
    expect(plain.some((e) => e.type === 'tool_call')).toBe(false);
  });
});
