import { randomUUID } from 'node:crypto';
import type { LlmEvent } from './llm-events.js';
import type { ToolCall } from '@agent-gateway/protocol';

interface PartialCall {
  id?: string;
  name: string;
  arguments: string;
}

/** Assembles the streamed fragments of a model's tool calls, by index. */
export class ToolCallAccumulator {
  private readonly byIndex = new Map<number, PartialCall>();

  observe(event: LlmEvent): void {
    if (event.type !== 'tool_call') return;
    const call = this.byIndex.get(event.index) ?? { name: '', arguments: '' };
    if (event.id) call.id = event.id;
    if (event.name) call.name += event.name;
    if (event.arguments) call.arguments += event.arguments;
    this.byIndex.set(event.index, call);
  }

  /** The complete calls, in index order; a call without an id gets one, a call without a name is dropped. */
  calls(): ToolCall[] {
    return [...this.byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, call]) => call.name !== '')
      .map(([, call]) => ({
        id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
  }
}
