import type { LlmEvent } from '../llm/llm-events.js';
import { type RoundPrompt, UsageMeter } from '../llm/usage-meter.js';

/** The closing fields of every Ollama answer: why it ended, how long each phase took (in ns), how many tokens. */
export interface DoneFields {
  done: true;
  done_reason: 'stop' | 'length';
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/**
 * What Ollama reports at the end of an answer, from the provider's events:
 * the prompt phase is the wait for the first token, the eval phase the rest;
 * the counts are the provider's, or counted with the tokenizer when it never
 * said (see UsageMeter).
 */
export class AnswerTally {
  private readonly startedAt = performance.now();
  private firstTokenAt?: number;
  private readonly usage = new UsageMeter();
  private reason: string | null = null;

  constructor(prompt: RoundPrompt) {
    this.usage.startRound(prompt);
  }

  observe(event: LlmEvent): void {
    this.usage.observe(event);
    if (event.type === 'finish') this.reason = event.reason;
    else if (event.type !== 'usage') this.firstTokenAt ??= performance.now();
  }

  done(): DoneFields {
    const now = performance.now();
    const firstTokenAt = this.firstTokenAt ?? now;
    // The model is done (this is no stop's tick): the prompt may be counted when the provider did not report it.
    const { prompt_tokens, completion_tokens } = this.usage.toRecordUsage();
    return {
      done: true,
      // Ollama has no word for tool calls: a model that stopped to call tools stopped.
      done_reason: this.reason === 'length' ? 'length' : 'stop',
      total_duration: nanoseconds(now - this.startedAt),
      load_duration: 0,
      prompt_eval_count: prompt_tokens ?? 0,
      prompt_eval_duration: nanoseconds(firstTokenAt - this.startedAt),
      eval_count: completion_tokens,
      eval_duration: nanoseconds(now - firstTokenAt),
    };
  }
}

function nanoseconds(ms: number): number {
  return Math.max(0, Math.round(ms * 1e6));
}
