/**
 * The OpenAI chat-completions shapes the gateway speaks with models, and
 * shows clients in the conversation history.
 */

/** JSON Schema, as tools declare their parameters. */
export type JsonSchema = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema };
}

export interface ToolCall {
  id: string;
  type: 'function';
  /** `arguments` is a JSON text, as the model wrote it. */
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };
