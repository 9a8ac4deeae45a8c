import type { Usage } from '@agent-gateway/protocol';
import type { LlmEvent, ProviderUsage } from './llm-events.js';

interface Round {
  chunks: number;
  provider?: ProviderUsage;
}

/**
 * Tokens of one reply, over all its model calls (a reply with tool calls
 * makes several). For each call the provider's own figure wins when it sent
 * one (it comes last, so a cut stream never has it); otherwise every chunk of
 * content counts as one token, which is how OpenAI-style servers stream.
 */
export class UsageMeter {
  private readonly rounds: Round[] = [];

  /** A new model call begins. */
  startRound(): Round {
    const round: Round = { chunks: 0 };
    this.rounds.push(round);
    return round;
  }

  observe(event: LlmEvent): void {
    const round = this.rounds.at(-1) ?? this.startRound();
    if (event.type === 'usage') round.provider = event.usage;
    else if (event.type === 'text' || event.type === 'reasoning' || event.type === 'tool_call') round.chunks += 1;
  }

  get completionTokens(): number {
    return this.rounds.reduce((sum, round) => sum + (round.provider?.completion_tokens ?? round.chunks), 0);
  }

  toUsage(): Usage {
    const reported = this.rounds.flatMap((round) => (round.provider ? [round.provider] : []));
    if (reported.length === 0 || reported.length < this.rounds.length) {
      return { prompt_tokens: null, completion_tokens: this.completionTokens, total_tokens: null, source: 'counted' };
    }
    const sum = (pick: (usage: ProviderUsage) => number) => reported.reduce((n, usage) => n + pick(usage), 0);
    return {
      prompt_tokens: sum((u) => u.prompt_tokens),
      completion_tokens: sum((u) => u.completion_tokens),
      total_tokens: sum((u) => u.total_tokens),
      source: 'provider',
    };
  }
}
