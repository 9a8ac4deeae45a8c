import type { EventSourceMessage } from 'eventsource-parser';
import type { LlmEvent } from './llm-events.js';
import type { CallOptions, RelayPart } from './relay-part.js';
import type { StreamDecoder } from './upstream-call.js';
import { UpstreamError } from './upstream-error.js';
import { isObject, upstreamObject } from './upstream-json.js';

/** Anthropic's stop reasons in OpenAI's words, which the gateway's events use. */
const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  pause_turn: 'stop',
};

export function finishReasonOf(stopReason: unknown): string | null {
  if (typeof stopReason !== 'string') return null;
  return Object.hasOwn(FINISH_REASONS, stopReason) ? FINISH_REASONS[stopReason] : stopReason;
}

/** Input tokens as Anthropic splits them (fresh, written to the cache, read from it), added up. */
function inputTokensOf(usage: Record<string, unknown>): number {
  const count = (key: string) => (typeof usage[key] === 'number' ? usage[key] : 0);
  return count('input_tokens') + count('cache_creation_input_tokens') + count('cache_read_input_tokens');
}

/**
 * The Messages API's stream (`message_start` … `message_stop`) as events:
 * text and thinking deltas, tool_use blocks as tool calls (numbered in their
 * order), the stop reason, and the usage, put together from `message_start`'s
 * input and `message_delta`'s output when `message_stop` comes.
 */
export class AnthropicDecoder implements StreamDecoder {
  done = false;
  finished = false;
  private inputTokens = 0;
  private outputTokens = 0;
  /** Whether the upstream said anything of its usage: a compatible server that says none leaves it to the gateway's count. */
  private usageSeen = false;
  /** Content block index → tool call index, for tool_use blocks. */
  private readonly toolIndexOf = new Map<number, number>();

  constructor(private readonly rename: CallOptions['rename']) {}

  event(message: EventSourceMessage): RelayPart | undefined {
    const value = upstreamObject(message.data, 'event');
    const type = message.event ?? (typeof value.type === 'string' ? value.type : undefined);
    if (type === 'ping') return undefined;
    if (type === 'error') throw UpstreamError.inStream(value.error);
    const events = this.eventsOf(type, value);
    let data = message.data;
    if (type === 'message_start' && this.rename && isObject(value.message)) {
      value.message.id = this.rename.id;
      value.message.model = this.rename.model;
      data = JSON.stringify(value);
    }
    return { type: 'chunk', data, ...(type && { event: type }), events };
  }

  private eventsOf(type: string | undefined, value: Record<string, unknown>): LlmEvent[] {
    switch (type) {
      case 'message_start': {
        const usage = isObject(value.message) && isObject(value.message.usage) ? value.message.usage : {};
        this.usageSeen ||= isObject(value.message) && isObject(value.message.usage);
        this.inputTokens = inputTokensOf(usage);
        if (typeof usage.output_tokens === 'number') this.outputTokens = usage.output_tokens;
        return [];
      }
      case 'content_block_start':
        return this.blockStart(value);
      case 'content_block_delta':
        return this.blockDelta(value);
      case 'message_delta': {
        if (isObject(value.usage)) {
          this.usageSeen = true;
          if (typeof value.usage.output_tokens === 'number') this.outputTokens = value.usage.output_tokens;
          // Some compatible servers report the input only here.
          if (inputTokensOf(value.usage) > 0) this.inputTokens = inputTokensOf(value.usage);
        }
        const stop = isObject(value.delta) ? value.delta.stop_reason : undefined;
        if (stop === undefined || stop === null) return [];
        this.finished = true;
        return [{ type: 'finish', reason: finishReasonOf(stop) }];
      }
      case 'message_stop':
        this.done = true;
        if (!this.usageSeen) return [];
        return [
          {
            type: 'usage',
            usage: {
              prompt_tokens: this.inputTokens,
              completion_tokens: this.outputTokens,
              total_tokens: this.inputTokens + this.outputTokens,
            },
          },
        ];
      default:
        return [];
    }
  }

  private blockStart(value: Record<string, unknown>): LlmEvent[] {
    const block = isObject(value.content_block) ? value.content_block : {};
    if (block.type === 'tool_use' && typeof value.index === 'number') {
      const index = this.toolIndexOf.size;
      this.toolIndexOf.set(value.index, index);
      return [
        {
          type: 'tool_call',
          index,
          ...(typeof block.id === 'string' && { id: block.id }),
          ...(typeof block.name === 'string' && { name: block.name }),
        },
      ];
    }
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return [{ type: 'text', text: block.text }];
    return [];
  }

  private blockDelta(value: Record<string, unknown>): LlmEvent[] {
    const delta = isObject(value.delta) ? value.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string') return [{ type: 'text', text: delta.text }];
    if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') return [{ type: 'reasoning', text: delta.thinking }];
    if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && typeof value.index === 'number') {
      const index = this.toolIndexOf.get(value.index);
      if (index !== undefined) return [{ type: 'tool_call', index, arguments: delta.partial_json }];
    }
    return [];
  }
}

/** What a whole (non-streamed) message says, as the events its stream would have carried. */
export function messageEvents(message: Record<string, unknown>): LlmEvent[] {
  const events: LlmEvent[] = [];
  const blocks = Array.isArray(message.content) ? message.content.filter(isObject) : [];
  let toolIndex = 0;
  for (const block of blocks) {
    if (block.type === 'text' && typeof block.text === 'string') events.push({ type: 'text', text: block.text });
    else if (block.type === 'thinking' && typeof block.thinking === 'string') events.push({ type: 'reasoning', text: block.thinking });
    else if (block.type === 'tool_use' && typeof block.name === 'string') {
      events.push({
        type: 'tool_call',
        index: toolIndex++,
        ...(typeof block.id === 'string' && { id: block.id }),
        name: block.name,
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
  }
  events.push({ type: 'finish', reason: finishReasonOf(message.stop_reason) });
  const usage = isObject(message.usage) ? message.usage : {};
  if (!isObject(message.usage)) return events;
  const input = inputTokensOf(usage);
  const output = typeof usage.output_tokens === 'number' ? usage.output_tokens : 0;
  events.push({ type: 'usage', usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output } });
  return events;
}
