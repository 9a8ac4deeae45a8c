import { randomBytes } from 'node:crypto';
import type { LlmEvent } from '../llm/llm-events.js';
import { type RoundPrompt, UsageMeter } from '../llm/usage-meter.js';
import { responseUsage } from './response-object.js';
import type { OutputItem, ResponseEvent, ResponseObject } from './response-types.js';

/** The numbers of one response's stream events, shared with its error event (see responsesApi). */
export class Sequence {
  private value = 0;

  next(): number {
    return this.value++;
  }
}

/** An event before it is numbered. */
type Unnumbered<E> = E extends unknown ? Omit<E, 'sequence_number'> : never;
type Status = 'completed' | 'incomplete';

/** The text item being written: a message's text or the model's reasoning. */
interface OpenText {
  type: 'message' | 'reasoning';
  outputIndex: number;
  id: string;
  text: string;
}

/**
 * A response built from a provider's events, as the Responses API streams
 * it: each item added, filled and done in turn (a message's text, the
 * model's reasoning as a summary, each function call), between
 * `response.created` / `response.in_progress` and the last event,
 * `response.completed` (`response.incomplete` when the model ran out of
 * tokens) with the whole response and its usage.
 */
export class ResponseAssembly {
  private readonly output: OutputItem[] = [];
  private text?: OpenText;
  /** A tool call's index (in the provider's events) → its item's place in `output`. */
  private readonly calls = new Map<number, number>();
  private readonly openCalls: number[] = [];
  private started = false;
  private finishReason: string | null = null;
  /** The provider's usage, or what the gateway counts when it never comes. */
  private readonly usage = new UsageMeter();
  private pending: ResponseEvent[] = [];

  constructor(
    private readonly shell: ResponseObject,
    prompt: RoundPrompt,
    private readonly sequence: Sequence,
  ) {
    this.usage.startRound(prompt);
  }

  /** The stream events one provider event makes (the first one also opens the response). */
  apply(event: LlmEvent): ResponseEvent[] {
    this.start();
    this.usage.observe(event);
    switch (event.type) {
      case 'text':
      case 'reasoning':
        this.appendText(event.type === 'text' ? 'message' : 'reasoning', event.text);
        break;
      case 'tool_call':
        this.toolCall(event);
        break;
      case 'finish':
        this.finishReason = event.reason;
        this.closeAll();
        break;
      case 'usage':
        break;
    }
    return this.flush();
  }

  /** The closing events, once the model is done: what is still open, then the whole response. */
  end(): ResponseEvent[] {
    this.start();
    this.closeAll();
    const response = this.response();
    this.emit({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response });
    return this.flush();
  }

  /** The response as it stands (finished, once `end()` was called). */
  response(): ResponseObject {
    const reason = incompleteReason(this.finishReason);
    return {
      ...this.shell,
      status: reason ? 'incomplete' : 'completed',
      incomplete_details: reason ? { reason } : null,
      ...(!reason && { completed_at: Math.floor(Date.now() / 1000) }),
      output: structuredClone(this.output),
      usage: responseUsage(this.usage),
    };
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.emit({ type: 'response.created', response: this.shell });
    this.emit({ type: 'response.in_progress', response: this.shell });
  }

  private appendText(type: OpenText['type'], delta: string): void {
    if (delta === '') return;
    const open = this.text?.type === type ? this.text : this.openText(type);
    open.text += delta;
    const at = { item_id: open.id, output_index: open.outputIndex };
    if (type === 'message') this.emit({ type: 'response.output_text.delta', ...at, content_index: 0, delta, logprobs: [] });
    else this.emit({ type: 'response.reasoning_summary_text.delta', ...at, summary_index: 0, delta });
  }

  private openText(type: OpenText['type']): OpenText {
    this.closeText();
    const outputIndex = this.output.length;
    if (type === 'message') {
      const id = itemId('msg');
      this.output.push({ type: 'message', id, role: 'assistant', status: 'in_progress', content: [] });
      this.emit({
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: { type: 'message', id, role: 'assistant', status: 'in_progress', content: [] },
      });
      const part = { type: 'output_text' as const, text: '', annotations: [], logprobs: [] };
      this.emit({ type: 'response.content_part.added', item_id: id, output_index: outputIndex, content_index: 0, part });
      this.text = { type, outputIndex, id, text: '' };
    } else {
      const id = itemId('rs');
      this.output.push({ type: 'reasoning', id, summary: [] });
      this.emit({ type: 'response.output_item.added', output_index: outputIndex, item: { type: 'reasoning', id, summary: [] } });
      const part = { type: 'summary_text' as const, text: '' };
      this.emit({ type: 'response.reasoning_summary_part.added', item_id: id, output_index: outputIndex, summary_index: 0, part });
      this.text = { type, outputIndex, id, text: '' };
    }
    return this.text;
  }

  private closeText(): void {
    const open = this.text;
    if (!open) return;
    this.text = undefined;
    const { id, outputIndex, text } = open;
    const at = { item_id: id, output_index: outputIndex };
    if (open.type === 'message') {
      this.emit({ type: 'response.output_text.done', ...at, content_index: 0, text, logprobs: [] });
      const part = { type: 'output_text' as const, text, annotations: [], logprobs: [] };
      this.emit({ type: 'response.content_part.done', ...at, content_index: 0, part });
      this.output[outputIndex] = { type: 'message', id, role: 'assistant', status: this.itemStatus(), content: [part] };
    } else {
      this.emit({ type: 'response.reasoning_summary_text.done', ...at, summary_index: 0, text });
      const part = { type: 'summary_text' as const, text };
      this.emit({ type: 'response.reasoning_summary_part.done', ...at, summary_index: 0, part });
      this.output[outputIndex] = { type: 'reasoning', id, summary: [part] };
    }
    this.emit({ type: 'response.output_item.done', output_index: outputIndex, item: structuredClone(this.output[outputIndex]) });
  }

  /** A fragment of a tool call: the first of its index opens a function_call item, the rest are its arguments. */
  private toolCall(event: Extract<LlmEvent, { type: 'tool_call' }>): void {
    let outputIndex = this.calls.get(event.index);
    if (outputIndex === undefined) {
      this.closeText();
      outputIndex = this.output.length;
      const id = itemId('fc');
      const callId = event.id ?? `call_${randomBytes(12).toString('hex')}`;
      const item = {
        type: 'function_call' as const,
        id,
        call_id: callId,
        name: event.name ?? '',
        arguments: '',
        status: 'in_progress' as const,
      };
      this.output.push(item);
      this.calls.set(event.index, outputIndex);
      this.openCalls.push(outputIndex);
      this.emit({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item } });
    } else if (event.name) {
      this.functionCall(outputIndex).name += event.name;
    }
    if (event.arguments) {
      const call = this.functionCall(outputIndex);
      call.arguments += event.arguments;
      this.emit({
        type: 'response.function_call_arguments.delta',
        item_id: call.id ?? '',
        output_index: outputIndex,
        delta: event.arguments,
      });
    }
  }

  private functionCall(outputIndex: number): Extract<OutputItem, { type: 'function_call' }> {
    const item = this.output[outputIndex];
    if (item.type !== 'function_call') throw new Error(`output ${outputIndex} is a ${item.type}, not a function call`);
    return item;
  }

  private closeAll(): void {
    this.closeText();
    for (const outputIndex of this.openCalls.splice(0)) {
      const call = this.functionCall(outputIndex);
      call.status = this.itemStatus();
      const at = { item_id: call.id ?? '', output_index: outputIndex };
      this.emit({ type: 'response.function_call_arguments.done', ...at, name: call.name, arguments: call.arguments });
      this.emit({ type: 'response.output_item.done', output_index: outputIndex, item: { ...call } });
    }
  }

  private itemStatus(): Status {
    return incompleteReason(this.finishReason) ? 'incomplete' : 'completed';
  }

  private emit(event: Unnumbered<ResponseEvent>): void {
    this.pending.push({ ...event, sequence_number: this.sequence.next() });
  }

  private flush(): ResponseEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}

/** Why a response stopped short, in the API's words, from the provider's finish reason (OpenAI's words). */
function incompleteReason(finish: string | null): 'max_output_tokens' | 'content_filter' | undefined {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return undefined;
}

/** An output item's id, prefixed by its kind as OpenAI's are (`msg_`, `rs_`, `fc_`). */
function itemId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}
