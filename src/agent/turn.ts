import type { ChatMessage, ToolCall } from '@agent-gateway/protocol';
import type { ToolCallLog, ToolExecutor } from '../tools/tool-call-log.js';
import { CANCELLED_BY_USER, type ToolOutcome, toolMessageContent } from '../tools/tool-outcome.js';
import type { StoredMessage } from '../conversation/stored-message.js';

export interface ToolCallRecord {
  call: ToolCall;
  executor: ToolExecutor;
  state: 'requested' | 'running' | 'completed' | 'failed' | 'cancelled';
  outcome?: ToolOutcome;
}

interface Round {
  /** Text deltas of this model call handed to the client, by text_stream_seq. */
  deltas: { seq: number; text: string }[];
  calls: ToolCall[];
}

export type TurnEnding = { kind: 'finished' } | { kind: 'failed' } | { kind: 'interrupted'; reason: string; heardText?: string };

/**
 * One user turn as it happens: the user's text, then each model call (its
 * delivered text and the tools it asked for) and each tool's outcome. It
 * gives the messages for the next model call, and what goes into the history
 * when the turn ends — always with a result for every tool call, so that the
 * next request is valid whatever happened to this one.
 */
export class Turn implements ToolCallLog {
  private readonly rounds: Round[] = [];
  private readonly tools = new Map<string, ToolCallRecord>();
  private readonly at = Date.now();

  private userText?: string;

  constructor(
    readonly requestId: string,
    userText?: string,
  ) {
    this.userText = userText;
  }

  /** What the user said: the request's text, or a spoken turn's transcript once it is final. */
  said(text: string): void {
    this.userText = text;
  }

  startRound(): void {
    this.rounds.push({ deltas: [], calls: [] });
  }

  /** Text of the current model call, as it is handed to the client (the text delta `seq`). */
  appendText(text: string, seq: number): void {
    this.current().deltas.push({ seq, text });
  }

  /** Text deltas that were dropped before they were sent (an interrupt): the client never got them. */
  retractText(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const dropped = new Set(seqs);
    for (const round of this.rounds) round.deltas = round.deltas.filter((delta) => !dropped.has(delta.seq));
  }

  /** The model asked for these tools; they run before the next model call. */
  requestTools(calls: ToolCall[], executorOf: (name: string) => ToolExecutor): void {
    this.current().calls = calls;
    for (const call of calls) this.tools.set(call.id, { call, executor: executorOf(call.function.name), state: 'requested' });
  }

  toolStarted(callId: string): void {
    const record = this.tools.get(callId);
    if (record?.state === 'requested') record.state = 'running';
  }

  /** Records a tool's outcome, unless the turn already gave up on it. */
  toolSettled(callId: string, outcome: ToolOutcome): ToolCallRecord | undefined {
    const record = this.tools.get(callId);
    if (!record || (record.state !== 'requested' && record.state !== 'running')) return undefined;
    record.state = outcome.ok ? 'completed' : 'failed';
    record.outcome = outcome;
    return record;
  }

  /**
   * The turn is being interrupted: every call without an outcome gets
   * "cancelled by user" (its execution is aborted right after). Returns the
   * calls that were running, whose clients must be told.
   */
  cancelUnsettled(): ToolCallRecord[] {
    const running: ToolCallRecord[] = [];
    for (const record of this.tools.values()) {
      if (record.state !== 'requested' && record.state !== 'running') continue;
      if (record.state === 'running') running.push(record);
      record.state = 'cancelled';
      record.outcome = CANCELLED_BY_USER;
    }
    return running;
  }

  /** This turn's messages so far, for the next model call. */
  promptMessages(): ChatMessage[] {
    return [{ role: 'user', content: this.userText ?? '' }, ...this.roundMessages(this.rounds.map(textOf))];
  }

  /** What goes into the history. An interrupted turn keeps what was delivered, or what was heard when known. */
  toHistory(ending: TurnEnding): StoredMessage[] {
    // Stopped (or failed) before the user's words were known: nothing was said, nothing is kept.
    if (this.userText === undefined) return [];
    const texts = this.rounds.map(textOf);
    const heardText = ending.kind === 'interrupted' ? ending.heardText : undefined;
    const kept = heardText === undefined ? texts : keepHeard(texts, heardText);
    const user: ChatMessage = { role: 'user', content: this.userText };
    const messages: ChatMessage[] = [user, ...this.roundMessages(kept)];
    const last = messages.at(-1) ?? user;
    // A turn cut before its last model call said anything still ends with an assistant message: it carries the mark.
    if (ending.kind !== 'finished' && !(last.role === 'assistant' && !last.tool_calls)) {
      messages.push({ role: 'assistant', content: '' });
    }
    return messages.map((message, index) => ({
      message,
      request_id: this.requestId,
      at: this.at,
      ...(index === messages.length - 1 &&
        ending.kind === 'interrupted' && { interrupted: { reason: ending.reason, kept: heardText === undefined ? 'delivered' : 'heard' } }),
      ...(index === messages.length - 1 && ending.kind === 'failed' && { failed: true }),
    }));
  }

  private roundMessages(texts: string[]): ChatMessage[] {
    return this.rounds.flatMap((round, i): ChatMessage[] => {
      const content = texts[i] ?? '';
      if (round.calls.length === 0) return content ? [{ role: 'assistant', content }] : [];
      const results = round.calls.map((call): ChatMessage => {
        const outcome = this.tools.get(call.id)?.outcome ?? CANCELLED_BY_USER;
        return { role: 'tool', tool_call_id: call.id, content: toolMessageContent(outcome) };
      });
      return [{ role: 'assistant', content: content || null, tool_calls: round.calls }, ...results];
    });
  }

  private current(): Round {
    const round = this.rounds.at(-1);
    if (!round) throw new Error('no model call has started');
    return round;
  }
}

const textOf = (round: Round) => round.deltas.map((delta) => delta.text).join('');

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Cuts the texts of the turn's model calls to what was heard (the heard text
 * is a prefix of them all, joined): calls heard whole stay, the one being
 * spoken is cut at the same point, later ones become empty.
 */
function keepHeard(texts: string[], heardText: string): string[] {
  let remaining = normalize(heardText).length;
  return texts.map((text) => {
    const whole = normalize(text);
    if (whole.length <= remaining) {
      remaining -= whole.length === 0 ? 0 : whole.length + 1;
      return text;
    }
    const cut = remaining > 0 ? whole.slice(0, remaining).trim() : '';
    remaining = 0;
    return cut;
  });
}
