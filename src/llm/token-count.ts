import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ToolDefinition } from '@agent-gateway/protocol';
import type { LlmMessage } from './llm-events.js';

/**
 * Token counts for what a provider did not report (a stream cut before its
 * usage chunk), with OpenAI's o200k encoding: exact for OpenAI's current
 * models on ordinary text, close for the others, and always marked
 * `estimated`.
 */

// A client's `<|endoftext|>` is text like any other: the encoder's default would throw on it.
const AS_TEXT = { disallowedSpecial: new Set<string>() };
/**
 * BPE merges a word in time quadratic in its length: 16 KB of one letter
 * take 150 ms, 2 MB would take half an hour. A run longer than this is
 * counted in slices of this length (a token or so off per slice).
 */
const MAX_RUN = 128;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}`, 'g');
/** Past this much text a count would hold the event loop for tens of milliseconds: countPromptTokensYielding slices it. */
const SLICE_CHARS = 64 * 1024;
/** What OpenAI's chat format adds: `<|im_start|>`, `<|im_sep|>`, `<|im_end|>` around each message, and the reply's start. */
const FRAMING_PER_MESSAGE = 3;
const FRAMING_OF_REPLY = 3;

export function countTextTokens(text: string): number {
  if (text === '') return 0;
  if (text.length <= MAX_RUN) return countTokens(text, AS_TEXT);
  let tokens = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    tokens += from < run.index ? countTokens(text.slice(from, run.index), AS_TEXT) : 0;
    for (let at = 0; at < run[0].length; at += MAX_RUN) tokens += countTokens(run[0].slice(at, at + MAX_RUN), AS_TEXT);
    from = run.index + run[0].length;
  }
  return tokens + (from < text.length ? countTokens(text.slice(from), AS_TEXT) : 0);
}

// The encoder builds its caches on first use (milliseconds): at start, not in the tick of someone's stop.
countTextTokens('warm');

/** Each prompt is counted once, however many of the gateway's parts ask (an API's head, the usage record); a call's messages never change. */
const counted = new WeakMap<readonly LlmMessage[], number>();

/** A prompt as OpenAI counts it: each message framed by its role markers, the tools' schemas as text. */
export function countPromptTokens(messages: readonly LlmMessage[], tools?: readonly ToolDefinition[]): number {
  let messageTokens = counted.get(messages);
  if (messageTokens === undefined) {
    messageTokens = messages.reduce((sum, message) => sum + framingOf(message) + countTextTokens(textOf(message)), FRAMING_OF_REPLY);
    counted.set(messages, messageTokens);
  }
  return messageTokens + toolTokens(tools);
}

/**
 * countPromptTokens for a prompt of any size, yielding to other work between
 * slices of 64 KiB of text (a coding agent's count_tokens may send
 * megabytes). Slices are counted apart: a token or so off a slice.
 */
export async function countPromptTokensYielding(messages: readonly LlmMessage[], tools?: readonly ToolDefinition[]): Promise<number> {
  let tokens = FRAMING_OF_REPLY;
  for (const message of messages) {
    const text = textOf(message);
    tokens += framingOf(message);
    for (let at = 0; at < text.length; at += SLICE_CHARS) {
      if (text.length > SLICE_CHARS) await new Promise((resolve) => setImmediate(resolve));
      tokens += countTextTokens(text.slice(at, at + SLICE_CHARS));
    }
  }
  return tokens + toolTokens(tools);
}

function framingOf(message: LlmMessage): number {
  return FRAMING_PER_MESSAGE + countTextTokens(message.role);
}

function toolTokens(tools: readonly ToolDefinition[] | undefined): number {
  return tools?.length ? countTextTokens(JSON.stringify(tools)) : 0;
}

function textOf(message: LlmMessage): string {
  const content =
    typeof message.content === 'string' || message.content === null
      ? (message.content ?? '')
      : message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  const calls = message.role === 'assistant' ? (message.tool_calls ?? []).map((call) => call.function.name + call.function.arguments) : [];
  return [content, ...calls].join('');
}
