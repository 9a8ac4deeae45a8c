import { randomUUID } from 'node:crypto';
import type { LlmEvent } from '../llm/llm-events.js';

type ContentBlockStart =
  | { type: 'text'; text: '' }
  | { type: 'thinking'; thinking: ''; signature: '' }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, never> };

export type ContentBlockDelta =
  { type: 'text_delta'; text: string } | { type: 'thinking_delta'; thinking: string } | { type: 'input_json_delta'; partial_json: string };

/** One of Anthropic's content block events, as its stream writes it (the `type` is also the SSE event's name). */
export type BlockStep =
  | { type: 'content_block_start'; index: number; content_block: ContentBlockStart }
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta }
  | { type: 'content_block_stop'; index: number };

type Kind = 'text' | 'thinking';

/**
 * The gateway's events as Anthropic's content blocks, numbered in the order
 * they start: consecutive text is one text block, reasoning a thinking
 * block, each tool call index a tool_use block. A block is stopped when
 * another starts, and the last one by close().
 */
export class ContentBlocks {
  private next = 0;
  private open?: { index: number; kind: Kind | 'tool_use' };
  /** Tool call index → its block's index. */
  private readonly toolBlocks = new Map<number, number>();

  steps(event: LlmEvent): BlockStep[] {
    switch (event.type) {
      case 'text':
        return event.text === '' ? [] : this.write('text', { type: 'text_delta', text: event.text });
      case 'reasoning':
        return event.text === '' ? [] : this.write('thinking', { type: 'thinking_delta', thinking: event.text });
      case 'tool_call':
        return this.toolCall(event);
      default:
        return [];
    }
  }

  /** Stops the block still open, once the model is done. */
  close(): BlockStep[] {
    if (!this.open) return [];
    const { index } = this.open;
    this.open = undefined;
    return [{ type: 'content_block_stop', index }];
  }

  private toolCall(event: Extract<LlmEvent, { type: 'tool_call' }>): BlockStep[] {
    const steps: BlockStep[] = [];
    let index = this.toolBlocks.get(event.index);
    if (index === undefined) {
      steps.push(...this.close());
      index = this.next++;
      this.toolBlocks.set(event.index, index);
      this.open = { index, kind: 'tool_use' };
      const id = event.id ?? `toolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
      steps.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: event.name ?? '', input: {} } });
    }
    // A fragment of a call whose block is no longer the open one still goes to that block: clients gather deltas by index.
    if (event.arguments)
      steps.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.arguments } });
    return steps;
  }

  /** A delta of the open block of this kind, or of a new one. */
  private write(kind: Kind, delta: ContentBlockDelta): BlockStep[] {
    const steps: BlockStep[] = [];
    let index = this.open?.kind === kind ? this.open.index : undefined;
    if (index === undefined) {
      steps.push(...this.close());
      index = this.next++;
      this.open = { index, kind };
      const block: ContentBlockStart = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
      steps.push({ type: 'content_block_start', index, content_block: block });
    }
    steps.push({ type: 'content_block_delta', index, delta });
    return steps;
  }
}
