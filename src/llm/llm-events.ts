import type { ChatMessage, ToolDefinition } from '@agent-gateway/protocol';

/** What a model call is asked, and what it streams back. */
export interface LlmRequest {
  messages: ChatMessage[];
  /** Offered to the model; it may answer with tool calls instead of (or after) text. */
  tools?: ToolDefinition[];
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
