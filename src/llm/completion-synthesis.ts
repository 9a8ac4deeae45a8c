import { randomUUID } from 'node:crypto';
import { map, type Observable, reduce } from 'rxjs';
import type { ChatMessage, ToolCall } from '@agent-gateway/protocol';
import type { CompletionBody, CompletionPart } from './completion-part.js';
import type { LlmEvent } from './llm-events.js';
import { ToolCallAccumulator } from './tool-call-accumulator.js';

/**
 * Writes a provider's events as OpenAI's wire format, for providers that do
 * not speak it themselves (the simulated model): one `chat.completion.chunk`
 * per event when streaming, or one `chat.completion` at the end.
 */
export function synthesizeCompletion(events$: Observable<LlmEvent>, body: CompletionBody): Observable<CompletionPart> {
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, created, model: body.model };
  if (body.stream === true) {
    let first = true;
    return events$.pipe(
      map((event): CompletionPart => {
        const chunk = { ...head, object: 'chat.completion.chunk', ...chunkFields(event, first) };
        first = false;
        return { type: 'chunk', data: JSON.stringify(chunk), events: [event] };
      }),
    );
  }
  return events$.pipe(
    reduce((events: LlmEvent[], event) => [...events, event], []),
    map((events): CompletionPart => ({ type: 'response', body: { ...head, object: 'chat.completion', ...wholeFields(events) }, events })),
  );
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

function wholeFields(events: LlmEvent[]): Record<string, unknown> {
  const calls = new ToolCallAccumulator();
  let content = '';
  let finish: string | null = null;
  let usage: unknown = null;
  for (const event of events) {
    calls.observe(event);
    if (event.type === 'text') content += event.text;
    else if (event.type === 'finish') finish = event.reason;
    else if (event.type === 'usage') usage = event.usage;
  }
  const toolCalls: ToolCall[] = calls.calls();
  const message: ChatMessage = { role: 'assistant', content: content || null, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) };
  return { choices: [{ index: 0, message, finish_reason: finish }], usage };
}
