import type { LlmEvent } from '../llm/llm-events.js';
import { AnswerTally } from './answer-tally.js';
import { OllamaChatEncoder, ollamaChatAnswer, OllamaGenerateEncoder, ollamaGenerateAnswer, ollamaToolCall } from './ollama-frames.js';

const PROMPT = { messages: [{ role: 'user' as const, content: 'hi' }] };
const HEAD = { model: 'llama3:8b', thinking: true };

function run(events: LlmEvent[], make: (tally: AnswerTally) => { event(e: LlmEvent): string; end(): string }): Record<string, unknown>[] {
  const tally = new AnswerTally(PROMPT);
  const encoder = make(tally);
  let text = '';
  for (const event of events) {
    tally.observe(event);
    text += encoder.event(event);
  }
  text += encoder.end();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('OllamaChatEncoder', () => {
  it('writes a line per piece of text or thinking, the tool calls whole once finished, then the tally', () => {
    const lines = run(
      [
        { type: 'reasoning', text: 'hmm' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_call', index: 0, id: 'call_1', name: 'get_weather', arguments: '{"city":' },
        { type: 'tool_call', index: 0, arguments: '"Paris"}' },
        { type: 'finish', reason: 'tool_calls' },
        { type: 'usage', usage: { prompt_tokens: 7, completion_tokens: 12, total_tokens: 19 } },
      ],
      (tally) => new OllamaChatEncoder(HEAD, tally),
    );
    expect(lines.map((line) => line.message)).toEqual([
      { role: 'assistant', content: '', thinking: 'hmm' },
      { role: 'assistant', content: 'Let me look.' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }],
      },
      { role: 'assistant', content: '' },
    ]);
    expect(lines.slice(0, -1).every((line) => line.done === false && line.model === 'llama3:8b')).toBe(true);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: 'stop', load_duration: 0, prompt_eval_count: 7, eval_count: 12 });
    expect(new Date(last.created_at as string).getTime()).not.toBeNaN();
    for (const key of ['total_duration', 'prompt_eval_duration', 'eval_duration']) expect(Number.isInteger(last[key])).toBe(true);
  });

  it('hides thinking when asked to, says “length” for a cut answer, and counts tokens when the provider did not', () => {
    const lines = run(
      [
        { type: 'reasoning', text: 'secret' },
        { type: 'text', text: 'one two three' },
        { type: 'finish', reason: 'length' },
      ],
      (tally) => new OllamaChatEncoder({ ...HEAD, thinking: false }, tally),
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ done: true, done_reason: 'length' });
    expect(lines[1].eval_count).toBeGreaterThan(0);
    expect(lines[1].prompt_eval_count).toBeGreaterThan(0);
  });
});

describe('OllamaGenerateEncoder', () => {
  it('writes response pieces, then the tally with an empty context', () => {
    const lines = run(
      [
        { type: 'text', text: 'The sky ' },
        { type: 'text', text: 'is blue.' },
        { type: 'finish', reason: 'stop' },
        { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
      ],
      (tally) => new OllamaGenerateEncoder(HEAD, tally),
    );
    expect(lines.map((line) => line.response)).toEqual(['The sky ', 'is blue.', '']);
    expect(lines[2]).toMatchObject({ done: true, done_reason: 'stop', context: [], prompt_eval_count: 3, eval_count: 2 });
  });
});

describe('whole answers', () => {
  const events: LlmEvent[] = [
    { type: 'reasoning', text: 'think' },
    { type: 'text', text: 'Hello ' },
    { type: 'text', text: 'there' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } },
  ];
  const tallied = () => {
    const tally = new AnswerTally(PROMPT);
    events.forEach((event) => tally.observe(event));
    return tally;
  };

  it('chat: the whole message and the tally in one object', () => {
    expect(ollamaChatAnswer(HEAD, events, tallied())).toMatchObject({
      model: 'llama3:8b',
      message: { role: 'assistant', content: 'Hello there', thinking: 'think' },
      done: true,
      eval_count: 2,
    });
  });

  it('generate: the whole response', () => {
    expect(ollamaGenerateAnswer({ ...HEAD, thinking: false }, events, tallied())).toEqual(
      expect.not.objectContaining({ thinking: expect.anything() }),
    );
    expect(ollamaGenerateAnswer(HEAD, events, tallied())).toMatchObject({
      response: 'Hello there',
      thinking: 'think',
      context: [],
      done: true,
    });
  });
});

describe('ollamaToolCall', () => {
  it('makes arguments an object, even when the model’s text is not one', () => {
    const call = (args: string) => ollamaToolCall({ id: 'c', type: 'function', function: { name: 'f', arguments: args } }, 2);
    expect(call('{"a":1}')).toEqual({ id: 'c', function: { index: 2, name: 'f', arguments: { a: 1 } } });
    expect(call('{"a":').function.arguments).toEqual({ arguments: '{"a":' });
    expect(call('').function.arguments).toEqual({});
    expect(call('[1]').function.arguments).toEqual({});
  });
});
