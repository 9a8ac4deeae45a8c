import type { EndPayload, ReplyFrame, ToolStatusPayload } from '../src/index.js';
import { element } from './dom.js';

export type TurnState = 'streaming' | 'finished' | 'interrupted' | 'failed' | 'past';

/** One exchange on the page: the user's words, the reply as it streams, and how it ended. */
export class TurnView {
  readonly item: HTMLLIElement;
  private readonly userBubble = element('div', { className: 'bubble user' });
  private readonly assistantBubble = element('div', { className: 'bubble assistant' });
  private readonly tools = element('div', { className: 'mark tools' });
  private readonly mark = element('div', { className: 'mark' });
  private readonly speech = element('div', { className: 'mark speech' });
  private text = '';
  /** Each audio frame's length, by voice_stream_seq, to tell how much has been heard. */
  private audioMs: number[] = [];

  constructor(requestId: string) {
    this.item = element('li', { className: 'turn' }, this.userBubble, this.tools, this.assistantBubble, this.speech, this.mark);
    this.item.dataset.requestId = requestId;
    this.setState('streaming');
  }

  /** Starts over, for a reply that is replayed from its first frame (a reloaded page). */
  reset(prompt: string | undefined): void {
    this.userBubble.textContent = prompt ?? '…';
    this.userBubble.hidden = false;
    this.assistantBubble.textContent = this.text = '';
    this.tools.textContent = this.mark.textContent = this.speech.textContent = '';
    this.audioMs = [];
    this.setState('streaming');
  }

  frame(frame: ReplyFrame): void {
    switch (frame.kind) {
      case 'text':
        this.text += frame.text;
        this.assistantBubble.textContent = this.text;
        return;
      case 'tool':
        this.tools.textContent = toolLine(frame.status);
        return;
      case 'error':
        this.mark.textContent = frame.error.code === 'TTS_ERROR' ? 'speech failed; text only' : frame.error.message;
        return;
      case 'end': {
        this.ended(frame.end);
        return;
      }
      case 'audio':
        this.audioMs[frame.chunk.voiceStreamSeq] = frame.chunk.durationMs ?? 0;
        return;
      case 'reasoning':
        return;
    }
  }

  /** The player has played every audio frame before `through`. */
  heard(through: number): void {
    const ms = this.audioMs.slice(0, through).reduce((sum, frame) => sum + frame, 0);
    this.item.dataset.heardFrames = String(through);
    this.speech.textContent = `${(ms / 1000).toFixed(1)} s of speech heard`;
  }

  /** Its audio is paused while the user speaks over it (or no longer). */
  paused(on: boolean): void {
    if (on) this.item.dataset.paused = 'true';
    else delete this.item.dataset.paused;
  }

  failed(error: Error): void {
    this.setState('failed');
    this.mark.textContent = error.message;
  }

  /** A past turn, from the history: the text kept, and why it was cut. */
  past(prompt: string, kept: string, interrupted?: { reason: string; kept: 'delivered' | 'heard' }): void {
    this.userBubble.textContent = prompt;
    this.assistantBubble.textContent = kept;
    this.setState(interrupted ? 'interrupted' : 'past');
    this.item.classList.add('past');
    if (interrupted) {
      this.mark.textContent = `interrupted (${interrupted.reason}) · kept what was ${interrupted.kept}`;
    }
  }

  private ended(end: EndPayload): void {
    this.paused(false);
    if (end.error) {
      this.setState('failed');
      this.mark.textContent = `failed: ${end.error.code}`;
      return;
    }
    if (!end.interrupted) {
      this.setState('finished');
      this.mark.textContent = `${end.usage.completion_tokens} tokens · ${(end.timing.total_ms / 1000).toFixed(1)} s`;
      return;
    }
    this.setState('interrupted');
    const heard = end.heard_text;
    this.mark.textContent = `interrupted (${end.interrupt_reason ?? ''})${heard === undefined ? '' : ' · struck out: delivered, not heard'}`;
    if (heard !== undefined && this.text.startsWith(heard)) {
      this.assistantBubble.replaceChildren(heard, element('span', { className: 'unheard', text: this.text.slice(heard.length) }));
    }
  }

  private setState(state: TurnState): void {
    this.item.dataset.state = state;
  }
}

function toolLine({ name, executor, state }: ToolStatusPayload): string {
  return `tool ${name} (run by the ${executor === 'server' ? 'gateway' : 'page'}): ${state}`;
}
