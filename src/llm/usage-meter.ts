import type { ToolDefinition, Usage } from '@agent-gateway/protocol';
import type { LlmEvent, LlmMessage, ProviderUsage } from './llm-events.js';
import { countPromptTokens, countTextTokens } from './token-count.js';

/** A model call's prompt, kept to be counted only if the provider never reports its usage. */
export interface RoundPrompt {
  messages: readonly LlmMessage[];
  tools?: readonly ToolDefinition[];
}

interface Round {
  prompt?: RoundPrompt;
  /** What the model generated (text, reasoning, tool calls), to count when the provider's figure never came. */
  generated: string[];
  /** Its chunks: the running figure, one chunk ≈ one token, as OpenAI-style servers stream (counting text costs more). */
  chunks: number;
  provider?: ProviderUsage;
  finished: boolean;
}

/**
 * Tokens of one reply, over all its model calls (a reply with tool calls
 * makes several). For each call the provider's own figure wins when it sent
 * one (it comes last, so a cut stream never has it); otherwise the prompt
 * and what was generated until the cut are counted with a tokenizer, and the
 * whole is marked `estimated`.
 */
export class UsageMeter {
  private readonly rounds: Round[] = [];

  /** A new model call begins. */
  startRound(prompt?: RoundPrompt): void {
    this.rounds.push({ ...(prompt && { prompt }), generated: [], chunks: 0, finished: false });
  }

  observe(event: LlmEvent): void {
    const round = this.currentRound();
    if (event.type === 'usage') round.provider = event.usage;
    else if (event.type === 'finish') round.finished = true;
    else {
      round.chunks += 1;
      round.generated.push(event.type === 'tool_call' ? (event.name ?? '') + (event.arguments ?? '') : event.text);
    }
  }

  /** The model said it was done with its last call: all that is left to come is the usage. */
  get finished(): boolean {
    return this.rounds.at(-1)?.finished ?? false;
  }

  /** Whether every call's usage came from its provider. */
  get reported(): boolean {
    return this.rounds.length > 0 && this.rounds.every((round) => round.provider);
  }

  /**
   * The running figure, for metrics and listings of requests still going:
   * the provider's, or the chunks so far. Cheap, unlike the tokenizer's count
   * in toUsage(), which is taken once, at the end.
   */
  get completionTokens(): number {
    return this.rounds.reduce((sum, round) => sum + (round.provider?.completion_tokens ?? round.chunks), 0);
  }

  /**
   * The usage as far as it is cheap to know, for what goes out in the tick of
   * a stop (an end frame, a log line): a prompt the provider never reported
   * is left null here, since counting a long history takes milliseconds.
   */
  toUsage(): Usage {
    return this.usage(false);
  }

  /** The whole estimate, prompts counted too: for the usage record, written after the stop's tick. */
  toRecordUsage(): Usage {
    return this.usage(true);
  }

  private usage(countPrompts: boolean): Usage {
    let prompt: number | null = this.rounds.length > 0 ? 0 : null;
    let completion = 0;
    for (const round of this.rounds) {
      completion += round.provider?.completion_tokens ?? countTextTokens(round.generated.join(''));
      const roundPrompt =
        round.provider?.prompt_tokens ??
        (countPrompts && round.prompt ? countPromptTokens(round.prompt.messages, round.prompt.tools) : undefined);
      prompt = prompt === null || roundPrompt === undefined ? null : prompt + roundPrompt;
    }
    return {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt === null ? null : prompt + completion,
      source: this.reported ? 'provider' : 'estimated',
    };
  }

  /** The call under way; events before any startRound() open one. */
  private currentRound(): Round {
    const last = this.rounds.at(-1);
    if (last) return last;
    const round: Round = { generated: [], chunks: 0, finished: false };
    this.rounds.push(round);
    return round;
  }
}
