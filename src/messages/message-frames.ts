import type { LlmEvent } from '../llm/llm-events.js';
import { UsageMeter } from '../llm/usage-meter.js';
import type { EventEncoder } from '../model-calls/event-frames.js';
import { type BlockStep, ContentBlocks } from './content-blocks.js';
import { sseFrame } from '../model-calls/sse-frame.js';
import { parseToolArguments } from '../llm/tool-arguments.js';

/** What every answer of one call says about itself. */
export interface MessageHead {
  /** The gateway's request id, `msg_…`. */
  id: string;
  /** The client's name of the model. */
  model: string;
  /** The prompt's tokens as the gateway counts them: what message_start says before the provider has told. */
  readonly estimatedInputTokens: number;
}

/** The gateway's finish reasons (OpenAI's words) in Anthropic's. */
const STOP_REASONS: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

export function stopReasonOf(finish: string | null): string {
  return (finish !== null && Object.hasOwn(STOP_REASONS, finish) && STOP_REASONS[finish]) || 'end_turn';
}

/**
 * A provider's events written as Anthropic's Messages stream, for upstreams
 * that do not speak it: message_start (with the prompt's estimated tokens,
 * the provider's figure coming only at the end), the content blocks, then
 * message_delta with the stop reason and the usage (the provider's when it
 * told), and message_stop. message_start leaves with the first event, so an
 * upstream that fails before it answers with an error status rather than a
 * stream.
 */
export class MessageStreamEncoder implements EventEncoder {
  private started = false;
  private readonly blocks = new ContentBlocks();
  private readonly output = new OutputTally();

  constructor(private readonly head: MessageHead) {}

  event(event: LlmEvent): string {
    const start = this.start();
    this.output.observe(event);
    if (event.type === 'finish') return start + frames(this.blocks.close());
    return start + frames(this.blocks.steps(event));
  }

  end(): string {
    const { stopReason, usage } = this.output.summary(this.head);
    return (
      this.start() +
      frames(this.blocks.close()) +
      frame('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage }) +
      frame('message_stop', { type: 'message_stop' })
    );
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const { id, model, estimatedInputTokens } = this.head;
    const message = { ...messageShell(id, model), stop_reason: null, usage: { input_tokens: estimatedInputTokens, output_tokens: 0 } };
    return frame('message_start', { type: 'message_start', message });
  }
}

/** The whole `message` the events make, for a request that is not streamed. */
export function anthropicMessage(head: MessageHead, events: readonly LlmEvent[]): Record<string, unknown> {
  const blocks = new ContentBlocks();
  const content = new MessageContent();
  const output = new OutputTally();
  for (const event of events) {
    output.observe(event);
    for (const step of blocks.steps(event)) content.apply(step);
  }
  const { stopReason, usage } = output.summary(head);
  return { ...messageShell(head.id, head.model), content: content.blocks(), stop_reason: stopReason, usage };
}

function messageShell(id: string, model: string) {
  return { id, type: 'message', role: 'assistant', model, content: [], stop_sequence: null };
}

/** The stop reason and the usage: the provider's counts when it reported them, the gateway's own (UsageMeter's) otherwise. */
class OutputTally {
  private finish: string | null = null;
  private readonly meter = new UsageMeter();

  constructor() {
    this.meter.startRound();
  }

  observe(event: LlmEvent): void {
    if (event.type === 'finish') this.finish = event.reason;
    this.meter.observe(event);
  }

  summary(head: MessageHead): { stopReason: string; usage: { input_tokens: number; output_tokens: number } } {
    const { prompt_tokens, completion_tokens } = this.meter.toUsage();
    return {
      stopReason: stopReasonOf(this.finish),
      usage: { input_tokens: prompt_tokens ?? head.estimatedInputTokens, output_tokens: completion_tokens },
    };
  }
}

type WholeBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** The blocks a stream's steps build, as a whole message holds them (a tool's input parsed). */
class MessageContent {
  private readonly content: WholeBlock[] = [];
  /** Block index → a tool_use block's input, as JSON text so far. */
  private readonly inputs = new Map<number, string>();

  apply(step: BlockStep): void {
    if (step.type === 'content_block_start') {
      this.content[step.index] = { ...step.content_block };
      if (step.content_block.type === 'tool_use') this.inputs.set(step.index, '');
      return;
    }
    if (step.type !== 'content_block_delta') return;
    const block = this.content[step.index];
    const { delta } = step;
    if (delta.type === 'text_delta' && block.type === 'text') block.text += delta.text;
    else if (delta.type === 'thinking_delta' && block.type === 'thinking') block.thinking += delta.thinking;
    else if (delta.type === 'input_json_delta') this.inputs.set(step.index, (this.inputs.get(step.index) ?? '') + delta.partial_json);
  }

  blocks(): WholeBlock[] {
    return this.content.map((block, index) =>
      block.type === 'tool_use' ? { ...block, input: parseToolArguments(this.inputs.get(index) ?? '') } : block,
    );
  }
}

function frames(steps: readonly BlockStep[]): string {
  return steps.map((step) => frame(step.type, step)).join('');
}

function frame(event: string, data: object): string {
  return sseFrame(JSON.stringify(data), event);
}
