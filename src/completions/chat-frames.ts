import type { ChatMessage, ToolCall } from '@agent-gateway/protocol';
import type { LlmEvent } from '../llm/llm-events.js';
import { ToolCallAccumulator } from '../llm/tool-call-accumulator.js';
import type { EventEncoder } from '../model-calls/event-frames.js';
import { sseFrame } from '../model-calls/sse-frame.js';

interface Head {
  id: string;
  model: string;
  created: number;
}

/**
 * A provider's events written as OpenAI's chat completions, for upstreams
 * that do not speak it (Anthropic, the simulated model): one
 * `chat.completion.chunk` per event, the usage only if the client asked.
 */
export class ChatChunkEncoder implements EventEncoder {
  private first = true;

  constructor(
    private readonly head: Head,
    private readonly includeUsage: boolean,
  ) {}

  event(event: LlmEvent): string {
    if (event.type === 'usage' && !this.includeUsage) return '';
    const chunk = { ...this.head, object: 'chat.completion.chunk', ...chunkFields(event, this.first) };
    this.first = false;
    return sseFrame(JSON.stringify(chunk));
  }

  end(): string {
    return '';
  }
}

function chunkFields(event: LlmEvent, first: boolean): Record<string, unknown> {
  const role = first ? { role: 'assistant' } : {};
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({
    choices: [{ index: 0, delta: { ...role, ...delta }, finish_reason: finish }],
    usage: null,
  });
  switch (event.type) {
    case 'text':
      return choice({ content: event.text });
    case 'reasoning':
      return choice({ reasoning_content: event.text });
    case 'tool_call':
      return choice({
        tool_calls: [
          {
            index: event.index,
            ...(event.id && { id: event.id, type: 'function' }),
            function: { ...(event.name && { name: event.name }), arguments: event.arguments ?? '' },
          },
        ],
      });
    case 'finish':
      return choice({}, event.reason);
    case 'usage':
      return { choices: [], usage: event.usage };
  }
}

/** The whole `chat.completion` the events make. */
export function chatCompletion(head: Head, events: readonly LlmEvent[]): Record<string, unknown> {
  const calls = new ToolCallAccumulator();
  let content = '';
  let reasoning = '';
  let finish: string | null = null;
  let usage: unknown = null;
  for (const event of events) {
    calls.observe(event);
    if (event.type === 'text') content += event.text;
    else if (event.type === 'reasoning') reasoning += event.text;
    else if (event.type === 'finish') finish = event.reason;
    else if (event.type === 'usage') usage = event.usage;
  }
  const toolCalls: ToolCall[] = calls.calls();
  const message: ChatMessage & { reasoning_content?: string } = {
    role: 'assistant',
    content: content || null,
    ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
    ...(reasoning && { reasoning_content: reasoning }),
  };
  return { ...head, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish }], usage };
}
