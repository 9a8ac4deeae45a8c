import { countTokens, encodeChat } from 'gpt-tokenizer/encoding/o200k_base';
import type { ToolDefinition } from '@agent-gateway/protocol';
import type { LlmMessage } from './llm-events.js';

/**
 * Token counts for what a provider did not report (a stream cut before its
 * usage chunk), with OpenAI's o200k encoding: exact for OpenAI's current
 * models, close for the others, and always marked `estimated`.
 */
export function countTextTokens(text: string): number {
  return text === '' ? 0 : countTokens(text);
}

// The encoder builds its caches on first use (milliseconds): at start, not in the tick of someone's stop.
countTokens('warm');

/** A prompt as OpenAI counts it: each message framed by its role markers, the tools' schemas as text. */
export function countPromptTokens(messages: readonly LlmMessage[], tools?: readonly ToolDefinition[]): number {
  const chat = messages.map((message) => ({ role: message.role, content: textOf(message) }));
  const toolTokens = tools?.length ? countTokens(JSON.stringify(tools)) : 0;
  return encodeChat(chat, 'gpt-4o').length + toolTokens;
}

function textOf(message: LlmMessage): string {
  const content =
    typeof message.content === 'string' || message.content === null
      ? (message.content ?? '')
      : message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  const calls = message.role === 'assistant' ? (message.tool_calls ?? []).map((call) => call.function.name + call.function.arguments) : [];
  return [content, ...calls].join('');
}
