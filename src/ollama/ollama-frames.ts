import type { ToolCall } from '@agent-gateway/protocol';
import type { LlmEvent } from '../llm/llm-events.js';
import { ToolCallAccumulator } from '../llm/tool-call-accumulator.js';
import type { EventEncoder } from '../model-calls/event-frames.js';
import type { AnswerTally } from './answer-tally.js';
import { parseToolArguments } from '../llm/tool-arguments.js';

/** A tool call as Ollama writes it: whole, its arguments an object. */
export interface OllamaToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

interface OllamaChatMessage {
  role: 'assistant';
  content: string;
  thinking?: string;
  tool_calls?: OllamaToolCall[];
}

/** What an Ollama answer is to show: its model name, and whether the model's reasoning is wanted. */
export interface OllamaHead {
  model: string;
  thinking: boolean;
}

/**
 * `/api/chat` streamed: one JSON object a line. Ollama sends tool calls whole,
 * so their fragments are gathered and written once the model has finished
 * them; the last line carries the tally (see AnswerTally).
 */
export class OllamaChatEncoder implements EventEncoder {
  private calls = new ToolCallAccumulator();
  private callsPending = false;

  constructor(
    private readonly head: OllamaHead,
    private readonly tally: AnswerTally,
  ) {}

  event(event: LlmEvent): string {
    switch (event.type) {
      case 'text':
        return event.text ? line(chatLine(this.head.model, { role: 'assistant', content: event.text })) : '';
      case 'reasoning':
        return this.head.thinking && event.text
          ? line(chatLine(this.head.model, { role: 'assistant', content: '', thinking: event.text }))
          : '';
      case 'tool_call':
        this.calls.observe(event);
        this.callsPending = true;
        return '';
      case 'finish':
        return this.flushCalls();
      case 'usage':
        return '';
    }
  }

  end(): string {
    return this.flushCalls() + line({ ...chatLine(this.head.model, { role: 'assistant', content: '' }), ...this.tally.done() });
  }

  private flushCalls(): string {
    if (!this.callsPending) return '';
    const calls = this.calls.calls().map(ollamaToolCall);
    this.calls = new ToolCallAccumulator();
    this.callsPending = false;
    return calls.length > 0 ? line(chatLine(this.head.model, { role: 'assistant', content: '', tool_calls: calls })) : '';
  }
}

/** `/api/generate` streamed: `response` pieces, then the tally with an empty `context` (the gateway keeps none). */
export class OllamaGenerateEncoder implements EventEncoder {
  constructor(
    private readonly head: OllamaHead,
    private readonly tally: AnswerTally,
  ) {}

  event(event: LlmEvent): string {
    if (event.type === 'text' && event.text) return line(generateLine(this.head.model, { response: event.text }));
    if (event.type === 'reasoning' && this.head.thinking && event.text) {
      return line(generateLine(this.head.model, { response: '', thinking: event.text }));
    }
    return '';
  }

  end(): string {
    return line(generateDone(this.head.model, { response: '' }, this.tally));
  }
}

/** `/api/chat` with `stream: false`: the whole message and the tally, in one object. */
export function ollamaChatAnswer(head: OllamaHead, events: readonly LlmEvent[], tally: AnswerTally): object {
  const { content, thinking, calls } = gathered(events);
  const message: OllamaChatMessage = {
    role: 'assistant',
    content,
    ...(head.thinking && thinking && { thinking }),
    ...(calls.length > 0 && { tool_calls: calls.map(ollamaToolCall) }),
  };
  return { ...chatLine(head.model, message), ...tally.done() };
}

/** `/api/generate` with `stream: false`. */
export function ollamaGenerateAnswer(head: OllamaHead, events: readonly LlmEvent[], tally: AnswerTally): object {
  const { content, thinking } = gathered(events);
  return generateDone(head.model, { response: content, ...(head.thinking && thinking && { thinking }) }, tally);
}

/** Ollama's answer to an empty chat or prompt: the model is "loaded", nothing is generated. */
export function ollamaLoaded(model: string, api: 'chat' | 'generate'): object {
  const head = { model, created_at: new Date().toISOString() };
  const answer = api === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  return { ...head, ...answer, done: true, done_reason: 'load' };
}

/** Ollama's arguments are an object; arguments that are not one (a JSON array, say) become an empty one. */
export function ollamaToolCall(call: ToolCall, index: number): OllamaToolCall {
  const args = parseToolArguments(call.function.arguments);
  const object = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  return { id: call.id, function: { index, name: call.function.name, arguments: object } };
}

function gathered(events: readonly LlmEvent[]): { content: string; thinking: string; calls: ToolCall[] } {
  const calls = new ToolCallAccumulator();
  let content = '';
  let thinking = '';
  for (const event of events) {
    calls.observe(event);
    if (event.type === 'text') content += event.text;
    else if (event.type === 'reasoning') thinking += event.text;
  }
  return { content, thinking, calls: calls.calls() };
}

function chatLine(model: string, message: OllamaChatMessage): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), message, done: false };
}

function generateLine(model: string, fields: { response: string; thinking?: string }): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), ...fields, done: false };
}

function generateDone(model: string, fields: { response: string; thinking?: string }, tally: AnswerTally): object {
  const { done, done_reason, ...counts } = tally.done();
  return { model, created_at: new Date().toISOString(), ...fields, done, done_reason, context: [], ...counts };
}

function line(value: object): string {
  return `${JSON.stringify(value)}\n`;
}
