import type { LlmEvent, ProviderUsage } from './llm-events.js';
import { UpstreamError } from './upstream-error.js';
import { isObject, upstreamObject } from './upstream-json.js';

/** One `chat.completion.chunk` (the data of one SSE event), parsed. */
export function parseChunk(data: string): Record<string, unknown> {
  return upstreamObject(data, 'chunk');
}

/**
 * What one parsed chunk says, as events. Providers differ at the edges (vLLM
 * sends `choices: null` with the usage, DashScope streams `reasoning_content`,
 * OpenRouter, vLLM and Ollama `reasoning`), so every field is optional here.
 */
export function chunkEvents(chunk: Record<string, unknown>): LlmEvent[] {
  if (isObject(chunk.error)) throw UpstreamError.inStream(chunk.error);

  const events: LlmEvent[] = [];
  const choice = firstChoice(chunk.choices);
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

/** The choice the gateway follows: index 0 (a client that asked for `n > 1` gets the others passed through, unaccounted). */
function firstChoice(choices: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(choices)) return undefined;
  return choices.find((choice): choice is Record<string, unknown> => isObject(choice) && (choice.index ?? 0) === 0);
}

/** What a whole (non-streamed) `chat.completion` says, as the events its stream would have carried. */
export function completionEvents(completion: Record<string, unknown>): LlmEvent[] {
  const events: LlmEvent[] = [];
  const choice = firstChoice(completion.choices);
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
