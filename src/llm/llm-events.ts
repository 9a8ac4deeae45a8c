import type { ToolCall, ToolDefinition } from '@agent-gateway/protocol';

/** A part of a message's content: text, or an image (a URL or a `data:` URL), as OpenAI's chat format writes them. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/**
 * A message of a model call, in OpenAI's chat shape (the shape every client
 * API is translated to): the protocol's ChatMessage, whose content may also
 * be parts, as chat apps send them.
 */
export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** Sampling settings a client may set, whatever API it speaks; absent means the provider's default. */
export interface GenerationParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
}

/** What a model call is asked, and what it streams back. */
export interface LlmRequest {
  messages: LlmMessage[];
  /** Offered to the model; it may answer with tool calls instead of (or after) text. */
  tools?: ToolDefinition[];
  /** The upstream's name of the model; the provider's configured model when absent. */
  model?: string;
  params?: GenerationParams;
}

export interface ProviderUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type LlmEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** A fragment of a tool call: the first one of an index carries id and name, the rest pieces of `arguments`. */
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'finish'; reason: string | null }
  | { type: 'usage'; usage: ProviderUsage };

export interface LlmDescriptor {
  provider: string;
  model: string;
  simulated: boolean;
}
