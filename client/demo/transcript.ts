import type { HistoryMessage, PlaybackReport, Reply } from '../src/index.js';
import { TurnView } from './turn-view.js';

/** The conversation on the page: past turns from the history, then live replies, one view per request. */
export class Transcript {
  private readonly turns = new Map<string, TurnView>();

  constructor(private readonly list: HTMLOListElement) {}

  /** A reply as it streams. A turn already shown for the request (a replay after a reload) starts over. */
  follow(reply: Reply, prompt: string | undefined): void {
    const turn = this.turns.get(reply.requestId) ?? this.add(reply.requestId);
    turn.reset(prompt);
    reply.subscribe({ next: (frame) => turn.frame(frame), error: (error: Error) => turn.failed(error) });
    this.list.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  /** How far the user has listened to a reply. */
  heard({ request_id: requestId, voice_stream_seq: through }: PlaybackReport): void {
    this.turns.get(requestId)?.heard(through);
  }

  /** A reply's audio is paused while the user speaks over it, or plays on. */
  paused(requestId: string, on: boolean): void {
    this.turns.get(requestId)?.paused(on);
  }

  /** Turns of the history not already on the page, above the live ones. */
  showPast(messages: HistoryMessage[]): void {
    const anchor = this.list.firstChild;
    for (const { requestId, prompt, reply } of pastTurns(messages)) {
      if (this.turns.has(requestId)) continue;
      const turn = new TurnView(requestId);
      this.turns.set(requestId, turn);
      turn.past(prompt, reply?.content ?? '', reply?.interrupted);
      this.list.insertBefore(turn.item, anchor);
    }
  }

  private add(requestId: string): TurnView {
    const turn = new TurnView(requestId);
    this.turns.set(requestId, turn);
    this.list.append(turn.item);
    return turn;
  }
}

interface PastTurn {
  requestId: string;
  prompt: string;
  /** The turn's last assistant message with text (tool-calling ones have none). */
  reply?: { content: string; interrupted?: HistoryMessage['interrupted'] };
}

function pastTurns(messages: HistoryMessage[]): PastTurn[] {
  const turns = new Map<string, PastTurn>();
  for (const message of messages) {
    if (message.role === 'user') turns.set(message.request_id, { requestId: message.request_id, prompt: message.content });
    const turn = turns.get(message.request_id);
    if (turn && message.role === 'assistant' && message.content) {
      turn.reply = { content: message.content, interrupted: message.interrupted };
    }
  }
  return [...turns.values()];
}
