import type { LlmEvent } from '../llm/llm-events.js';
import { ResponseAssembly, Sequence } from './response-assembly.js';
import { wholeResponse } from './response-frames.js';
import { responseShell } from './response-object.js';
import { ResponsesBody } from './responses-body.js';
import type { ResponseEvent } from './response-types.js';

const prompt = { messages: [{ role: 'user' as const, content: 'hi' }] };
const assembly = () =>
  new ResponseAssembly(responseShell(ResponsesBody.parse({ input: 'hi' }), [], 'resp_1', 'gpt-x'), prompt, new Sequence());
const usage: LlmEvent = { type: 'usage', usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };

function streamOf(events: LlmEvent[]): ResponseEvent[] {
  const built = assembly();
  return [...events.flatMap((event) => built.apply(event)), ...built.end()];
}

describe('ResponseAssembly', () => {
  it('streams text as one message item, numbered in order, and completes with the usage', () => {
    const events = streamOf([{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }, { type: 'finish', reason: 'stop' }, usage]);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual([...events.keys()]);
    const itemId = (events[2] as Extract<ResponseEvent, { type: 'response.output_item.added' }>).item.id;
    expect(itemId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(events[4]).toEqual({
      type: 'response.output_text.delta',
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta: 'Hel',
      logprobs: [],
      sequence_number: 4,
    });
    expect(events.at(-1)).toMatchObject({
      type: 'response.completed',
      response: {
        id: 'resp_1',
        object: 'response',
        model: 'gpt-x',
        status: 'completed',
        output: [
          {
            type: 'message',
            id: itemId,
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: 'Hello', annotations: [] }],
          },
        ],
        usage: {
          input_tokens: 7,
          output_tokens: 3,
          total_tokens: 10,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens_details: { reasoning_tokens: 0 },
        },
      },
    });
  });

  it('writes reasoning as a summarised reasoning item before the message', () => {
    const events = streamOf([
      { type: 'reasoning', text: 'Think' },
      { type: 'text', text: 'Answer' },
      { type: 'finish', reason: 'stop' },
    ]);
    expect(events.slice(2, 9).map((event) => event.type)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
    ]);
    const last = events.at(-1) as Extract<ResponseEvent, { type: 'response.completed' }>;
    expect(last.response.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(last.response.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'Think' }] });
  });

  it('writes tool calls as function_call items, their arguments as deltas', () => {
    const events = streamOf([
      { type: 'tool_call', index: 0, id: 'call_a', name: 'weather', arguments: '{"city":' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'time', arguments: '' },
      { type: 'tool_call', index: 0, arguments: '"Oslo"}' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
    expect(events.slice(2).map((event) => event.type)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[2]).toMatchObject({
      item: { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '', status: 'in_progress' },
    });
    expect(events[5]).toMatchObject({ output_index: 0, delta: '"Oslo"}' });
    expect(events[6]).toMatchObject({ output_index: 0, name: 'weather', arguments: '{"city":"Oslo"}' });
    const last = events.at(-1) as Extract<ResponseEvent, { type: 'response.completed' }>;
    expect(last.response.output).toMatchObject([
      { type: 'function_call', call_id: 'call_a', arguments: '{"city":"Oslo"}', status: 'completed' },
      { type: 'function_call', call_id: 'call_b', name: 'time', arguments: '', status: 'completed' },
    ]);
  });

  it('ends as incomplete when the model ran out of tokens', () => {
    const last = streamOf([
      { type: 'text', text: 'Cut' },
      { type: 'finish', reason: 'length' },
    ]).at(-1);
    expect(last).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ status: 'incomplete' }] },
    });
  });

  it('counts the usage with a tokenizer when the provider never reported it', () => {
    const response = wholeResponse(assembly(), [
      { type: 'text', text: 'one two three' },
      { type: 'finish', reason: 'stop' },
    ]);
    expect(response.status).toBe('completed');
    expect(response.usage?.output_tokens).toBe(3);
    expect(response.usage?.input_tokens).toBeGreaterThan(0);
    expect(response.usage?.total_tokens).toBe((response.usage?.input_tokens ?? 0) + 3);
  });
});
