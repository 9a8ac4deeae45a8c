import type { LlmEvent } from './llm-events.js';

/**
 * What the OpenAI-compatible HTTP endpoint passes on: with `stream: true`, each
 * server-sent event's data as the upstream wrote it; otherwise the whole
 * completion object. Both say what they mean as events, for the accounting.
 */
export type CompletionPart =
  { type: 'chunk'; data: string; events: LlmEvent[] } | { type: 'response'; body: Record<string, unknown>; events: LlmEvent[] };

/** A chat-completions request body, as a client sent it (validated loosely: it is passed on). */
export type CompletionBody = Record<string, unknown> & { model: string; stream?: boolean };
