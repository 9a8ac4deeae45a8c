import type { ChatMessage } from '@agent-gateway/protocol';
import type { StoredMessage } from './stored-message.js';

export interface HistoryWindow {
  maxTurns: number;
  maxTokens: number;
}

/** About four characters a token: a bound, not a bill. */
function estimateTokens(message: ChatMessage): number {
  const toolCalls = message.role === 'assistant' ? (message.tool_calls ?? []) : [];
  const chars =
    (message.content ?? '').length + toolCalls.reduce((n, call) => n + call.function.name.length + call.function.arguments.length, 0);
  return Math.ceil(chars / 4) + 4;
}

/**
 * Keeps the most recent whole turns that fit the window. A turn starts at a
 * user message and runs to the next one, so an assistant's tool calls and
 * their results always stay together (a result without its call, or a call
 * without its result, makes the provider refuse the next request). The latest
 * turn is kept even when it alone is over the token budget.
 */
export function trimToWindow(messages: StoredMessage[], window: HistoryWindow): StoredMessage[] {
  const turnStarts = messages.flatMap((stored, index) => (stored.message.role === 'user' || index === 0 ? [index] : []));
  let start = messages.length;
  let turns = 0;
  let tokens = 0;
  for (let t = turnStarts.length - 1; t >= 0; t--) {
    const from = turnStarts[t];
    const turnTokens = messages.slice(from, start).reduce((n, stored) => n + estimateTokens(stored.message), 0);
    if (turns > 0 && (turns + 1 > window.maxTurns || tokens + turnTokens > window.maxTokens)) break;
    turns += 1;
    tokens += turnTokens;
    start = from;
  }
  return messages.slice(start);
}
