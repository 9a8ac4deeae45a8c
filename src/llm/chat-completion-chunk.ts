import type { LlmEvent, ProviderUsage } from './llm-events.js';
import { UpstreamError } from './upstream-error.js';

/** One `chat.completion.chunk` (the data of one SSE event), parsed. */
export function parseChunk(data: string): Record<string, unknown> {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch (error) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `chunk is not JSON: ${data}`, undefined, error);
  }
  if (!isObject(chunk)) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `chunk is not an object: ${data}`);
  return chunk;
}

/** Turns one SSE event's data into events (see chunkEvents). */
export function chunkToEvents(data: string): LlmEvent[] {
  return chunkEvents(parseChunk(data));
}

/**
 * What one parsed chunk says, as events. Providers differ at the edges (vLLM
 * sends `choices: null` with the usage, DashScope streams `reasoning_content`,
 * OpenRouter, vLLM and Ollama `reasoning`), so every field is optional here.
 */
export function chunkEvents(chunk: Record<string, unknown>): LlmEvent[] {
  if (isObject(chunk.error)) {
    const message = typeof chunk.error.message === 'string' ? chunk.error.message : JSON.stringify(chunk.error);
    throw new UpstreamError('UPSTREAM_ERROR', `error event in stream: ${message}`);
  }

  const events: LlmEvent[] = [];
  const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
  const delta = choice && isObject(choice.delta) ? choice.delta : undefined;
  if (delta) {
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') events.push({ type: 'reasoning', text: reasoning });
    if (typeof delta.content === 'string' && delta.content !== '') {
      events.push({ type: 'text', text: delta.content });
    }
    if (Array.isArray(delta.tool_calls)) events.push(...toolCallEvents(delta.tool_calls));
  }
  if (choice && typeof choice.finish_reason === 'string') {
    events.push({ type: 'finish', reason: choice.finish_reason });
  }
  const usage = toUsage(chunk.usage);
  if (usage) events.push({ type: 'usage', usage });
  return events;
}

/** What a whole (non-streamed) `chat.completion` says, as the events its stream would have carried. */
export function completionEvents(completion: Record<string, unknown>): LlmEvent[] {
  const events: LlmEvent[] = [];
  const choice = Array.isArray(completion.choices) && isObject(completion.choices[0]) ? completion.choices[0] : undefined;
  const message = choice && isObject(choice.message) ? choice.message : undefined;
  const reasoning = message?.reasoning_content ?? message?.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') events.push({ type: 'reasoning', text: reasoning });
  if (message && typeof message.content === 'string' && message.content !== '') {
    events.push({ type: 'text', text: message.content });
  }
  if (message && Array.isArray(message.tool_calls)) events.push(...toolCallEvents(message.tool_calls));
  if (choice && typeof choice.finish_reason === 'string') events.push({ type: 'finish', reason: choice.finish_reason });
  const usage = toUsage(completion.usage);
  if (usage) events.push({ type: 'usage', usage });
  return events;
}

function toolCallEvents(deltas: unknown[]): LlmEvent[] {
  return deltas.filter(isObject).map((delta, position) => {
    const fn = isObject(delta.function) ? delta.function : {};
    return {
      type: 'tool_call' as const,
      // Some servers omit the index when they send one call per chunk.
      index: typeof delta.index === 'number' ? delta.index : position,
      ...(typeof delta.id === 'string' && { id: delta.id }),
      ...(typeof fn.name === 'string' && { name: fn.name }),
      ...(typeof fn.arguments === 'string' && { arguments: fn.arguments }),
    };
  });
}

function toUsage(value: unknown): ProviderUsage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = numberOr(value.prompt_tokens, 0);
  const completion = numberOr(value.completion_tokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: numberOr(value.total_tokens, prompt + completion) };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
