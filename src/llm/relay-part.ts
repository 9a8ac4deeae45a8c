import type { LlmEvent } from './llm-events.js';

/**
 * The wire formats a provider may speak itself, so that a client speaking
 * the same one gets the upstream's answer passed on (its extra fields kept)
 * rather than rebuilt from events.
 */
export type WireFormat = 'openai-chat' | 'anthropic-messages' | 'openai-embeddings';

/**
 * What a relayed call passes on: with streaming, each server-sent event as the
 * upstream wrote it (its `event:` name too); otherwise the whole answer. Both
 * say what they mean as events, for the accounting.
 */
export type RelayPart =
  | { type: 'chunk'; data: string; event?: string; events: LlmEvent[] }
  | { type: 'response'; body: Record<string, unknown>; events: LlmEvent[] };

/** A client's request body in one of the wire formats (validated loosely: it is passed on). */
export type RelayBody = Record<string, unknown> & { model: string; stream?: boolean };

/**
 * What travels with a call besides its body: headers forwarded to the
 * upstream (already filtered by the allowlist), a place to learn the
 * upstream's answer headers, and the names the client is to see in the
 * answer (its own model name, the gateway's id), written over the upstream's.
 */
export interface CallOptions {
  headers?: Record<string, string>;
  onResponseHeaders?: (headers: Record<string, string | string[] | undefined>) => void;
  rename?: { id: string; model: string };
}
