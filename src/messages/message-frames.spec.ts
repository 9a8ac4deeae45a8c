import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { LlmEvent } from '../llm/llm-events.js';
import { anthropicMessage, MessageStreamEncoder, stopReasonOf } from './message-frames.js';

const head = { id: 'msg_1', model: 'claude-x', estimatedInputTokens: 7 };

/** What a client's SSE parser reads of the frames: each event's name, and its data parsed. */
function read(text: string): { event: string | undefined; data: Record<string, unknown> }[] {
  const read: { event: string | undefined; data: Record<string, unknown> }[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) =>
      read.push({ event: message.event, data: JSON.parse(message.data) as Record<string, unknown> }),
  });
  parser.feed(text);
  return read;
}

function encode(events: LlmEvent[]): { event: string | undefined; data: Record<string, unknown> }[] {
  const encoder = new MessageStreamEncoder(head);
  return read(events.map((event) => encoder.event(event)).join('') + encoder.end());
}

describe('MessageStreamEncoder', () => {
  it('writes a text answer as Anthropic streams one, the usage the provider reported last', () => {
    const frames = encode([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } },
    ]);
    expect(frames.map((frame) => frame.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    // Each event's name is its data's type, as Anthropic writes them.
    for (const frame of frames) expect(frame.data.type).toBe(frame.event);
    expect(frames[0].data).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [],
        stop_sequence: null,
        stop_reason: null,
        usage: { input_tokens: 7, output_tokens: 0 },
      },
    });
    expect(frames[1].data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(frames[3].data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } });
    expect(frames[5].data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 11, output_tokens: 2 },
    });
  });

  it('numbers thinking, text and each tool call as blocks of their own, in the order they start', () => {
    const frames = encode([
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_call', index: 0, id: 'call_a', name: 'weather', arguments: '{"city":' },
      { type: 'tool_call', index: 0, arguments: '"Oslo"}' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'time' },
      { type: 'tool_call', index: 1, arguments: '{}' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
    const blocks = frames.filter((frame) => frame.event?.startsWith('content_block')).map((frame) => frame.data);
    expect(blocks).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Let me look.' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_a', name: 'weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'call_b', name: 'time', input: {} } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 3 },
    ]);
    expect(frames.at(-2)?.data).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('counts the usage itself when the provider reported none', () => {
    const frames = encode([
      { type: 'text', text: 'one two three' },
      { type: 'finish', reason: 'length' },
    ]);
    expect(frames.at(-2)?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { input_tokens: 7, output_tokens: 3 },
    });
  });

  it('still opens and closes the message when the model said nothing', () => {
    expect(encode([]).map((frame) => frame.event)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });
});

describe('anthropicMessage', () => {
  it('is the message the stream would have built: blocks in order, tool input parsed', () => {
    const message = anthropicMessage(head, [
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'Let ' },
      { type: 'text', text: 'me look.' },
      { type: 'tool_call', index: 0, id: 'call_a', name: 'weather', arguments: '{"city":' },
      { type: 'tool_call', index: 0, arguments: '"Oslo"}' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'broken', arguments: '{nope' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 } },
    ]);
    expect(message).toEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: '' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'call_b', name: 'broken', input: { arguments: '{nope' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 9 },
    });
  });
});

describe('stopReasonOf', () => {
  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
    ['something_else', 'end_turn'],
  ])('%s → %s', (finish, stop) => expect(stopReasonOf(finish)).toBe(stop));
});
