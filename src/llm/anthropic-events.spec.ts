import type { EventSourceMessage } from 'eventsource-parser';
import { AnthropicDecoder, finishReasonOf, messageEvents } from './anthropic-events.js';
import type { LlmEvent } from './llm-events.js';
import type { RelayPart } from './relay-part.js';
import { UpstreamError } from './upstream-error.js';

/** A server-sent event as Anthropic writes it: named after its data's type (unless `event` says otherwise). */
function message(data: { type: string } & Record<string, unknown>, event: string | undefined = data.type): EventSourceMessage {
  return { event, data: JSON.stringify(data), id: undefined };
}

const stream = [
  message({
    type: 'message_start',
    message: {
      id: 'msg_up',
      model: 'claude-up',
      usage: { input_tokens: 10, cache_creation_input_tokens: 2, cache_read_input_tokens: 3, output_tokens: 1 },
    },
  }),
  message({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
  message({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
  message({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
  message({ type: 'content_block_stop', index: 0 }),
  message({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
  message({ type: 'ping' }),
  message({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } }),
  message({ type: 'content_block_stop', index: 1 }),
  message({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} } }),
  message({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
  message({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } }),
  message({ type: 'content_block_stop', index: 2 }),
  message({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }),
  message({ type: 'message_stop' }),
];

function decode(decoder: AnthropicDecoder, messages: EventSourceMessage[]): (RelayPart | undefined)[] {
  return messages.map((m) => decoder.event(m));
}

describe('AnthropicDecoder', () => {
  it('reads a stream as events: thinking, text, a tool call by its own index, the stop reason, and the usage at message_stop', () => {
    const decoder = new AnthropicDecoder(undefined);
    const events = decode(decoder, stream).flatMap((part) => part?.events ?? []);
    expect(events).toEqual<LlmEvent[]>([
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'Hi' },
      { type: 'tool_call', index: 0, id: 'toolu_1', name: 'weather' },
      { type: 'tool_call', index: 0, arguments: '{"city":' },
      { type: 'tool_call', index: 0, arguments: '"Oslo"}' },
      { type: 'finish', reason: 'tool_calls' },
      // The input is fresh, written to the cache and read from it, added up.
      { type: 'usage', usage: { prompt_tokens: 15, completion_tokens: 42, total_tokens: 57 } },
    ]);
    expect(decoder.finished).toBe(true);
    expect(decoder.done).toBe(true);
  });

  it('passes every event but pings on under its name, message_start renamed to the client’s model and the gateway’s id', () => {
    const parts = decode(new AnthropicDecoder({ id: 'msg_gateway', model: 'claude-x' }), stream);
    expect(parts[6]).toBeUndefined(); // the ping
    const [start, ...rest] = parts.filter((part) => part !== undefined);
    expect(start).toMatchObject({ type: 'chunk', event: 'message_start' });
    const data = JSON.parse((start as Extract<RelayPart, { type: 'chunk' }>).data) as { message: Record<string, unknown> };
    expect(data.message).toMatchObject({ id: 'msg_gateway', model: 'claude-x' });
    // The others go as the upstream wrote them.
    expect(rest.map((part) => part.type === 'chunk' && part.data)).toEqual(
      stream
        .slice(1)
        .filter((m) => m.event !== 'ping')
        .map((m) => m.data),
    );
  });

  it('names an event by its data’s type when the server wrote no event line', () => {
    const part = new AnthropicDecoder(undefined).event(
      message({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } }, undefined),
    );
    expect(part).toMatchObject({ type: 'chunk', event: 'content_block_delta', events: [{ type: 'text', text: 'x' }] });
  });

  it('takes the input tokens from message_delta when a compatible server reports them only there', () => {
    const decoder = new AnthropicDecoder(undefined);
    const events = decode(decoder, [
      message({ type: 'message_start', message: { usage: {} } }),
      message({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 8, output_tokens: 3 } }),
      message({ type: 'message_stop' }),
    ]).flatMap((part) => part?.events ?? []);
    expect(events).toEqual<LlmEvent[]>([
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 } },
    ]);
  });

  it('throws an UpstreamError for an error event, and for data that is not JSON', () => {
    const decoder = new AnthropicDecoder(undefined);
    expect(() => decoder.event(message({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))).toThrow(
      UpstreamError,
    );
    expect(() => decoder.event({ event: 'content_block_delta', data: '{"type":', id: undefined })).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }) as Error,
    );
  });
});

describe('messageEvents', () => {
  it('reads a whole message as the events its stream would have carried', () => {
    expect(
      messageEvents({
        content: [
          { type: 'thinking', thinking: 'hmm' },
          { type: 'text', text: 'Hi' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 5, output_tokens: 6 },
      }),
    ).toEqual<LlmEvent[]>([
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'Hi' },
      { type: 'tool_call', index: 0, id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo"}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } },
    ]);
  });
});

describe('finishReasonOf', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['new_reason', 'new_reason'],
    [undefined, null],
  ])('%s → %s', (stop, finish) => expect(finishReasonOf(stop)).toBe(finish));
});
