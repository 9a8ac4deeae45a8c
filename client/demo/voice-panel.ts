import type {
  AudioInputAckPayload,
  InterruptAckPayload,
  PlaybackPausePayload,
  PlaybackResumePayload,
  TranscriptPayload,
} from '../src/index.js';
import { element } from './dom.js';

/** How many events the log keeps (newest first). */
const LOG_LENGTH = 40;

const RESUME_REASONS: Record<PlaybackResumePayload['reason'], string> = {
  too_short: 'too short to be an interruption',
  backchannel: 'a backchannel, not an interruption',
  echo: 'the agent’s own voice',
  no_words: 'no words in it',
  timeout: 'no interruption after all',
};

export interface VoicePanelElements {
  /** The hands-free toggle. */
  toggle: HTMLButtonElement;
  /** What the gateway hears now: off, listening, speech. */
  status: HTMLSpanElement;
  /** Shown while a reply is paused because the user speaks over it. */
  paused: HTMLSpanElement;
  /** The interim transcript of what is being said. */
  live: HTMLParagraphElement;
  /** The voice events, newest first. */
  log: HTMLOListElement;
}

/**
 * Hands-free mode on the page: the toggle, what the gateway hears (speech
 * started, stopped, the transcript as it forms), whether a reply is paused
 * because the user is speaking over it, and a log of the voice events.
 */
export class VoicePanel {
  private listening = false;
  private readonly pausedIds = new Set<string>();

  constructor(private readonly elements: VoicePanelElements) {
    this.show();
  }

  /** What the session's voice input got (REGISTER_ACK): the toggle works only when it is on, hands-free. */
  session(input: AudioInputAckPayload | undefined): void {
    const { toggle } = this.elements;
    const usable = input?.enabled === true && input.turn_detection !== 'manual';
    toggle.disabled = !usable;
    toggle.title = usable
      ? `Hands-free: talk to it, talk over it to interrupt (${input.asr ? `${input.asr.provider} ${input.asr.model}` : 'speech recognition'})`
      : `No voice input: ${input?.reason ?? 'the gateway takes none'}`;
  }

  microphone(on: boolean): void {
    this.listening = on;
    this.elements.toggle.setAttribute('aria-pressed', String(on));
    this.elements.toggle.classList.toggle('listening', on);
    if (!on) this.elements.live.textContent = '';
    this.show();
  }

  speechStarted(audioStartMs: number): void {
    this.elements.status.dataset.state = 'speech';
    this.elements.status.textContent = 'hearing you…';
    this.add('SPEECH_STARTED', `speech started at ${seconds(audioStartMs)}`);
  }

  speechStopped(audioEndMs: number): void {
    this.show();
    this.add('SPEECH_STOPPED', `speech stopped at ${seconds(audioEndMs)}`);
  }

  transcript({ text, final, request_id: requestId }: TranscriptPayload): void {
    this.elements.live.textContent = final ? '' : text;
    if (!final) return;
    const item = this.add('TRANSCRIPT', text ? `“${text}”${requestId ? '' : ' (no new turn)'}` : '(no words)');
    item.dataset.final = 'true';
  }

  paused({ request_ids: requestIds }: PlaybackPausePayload): void {
    for (const id of requestIds) this.pausedIds.add(id);
    this.add('PLAYBACK_PAUSE', `reply paused while you speak`);
    this.showPaused();
  }

  resumed({ request_ids: requestIds, reason }: PlaybackResumePayload): void {
    for (const id of requestIds) this.pausedIds.delete(id);
    this.add('PLAYBACK_RESUME', `resumed: ${RESUME_REASONS[reason]}`);
    this.showPaused();
  }

  interrupted(ack: InterruptAckPayload): void {
    this.over(ack.interrupted_request_ids);
    if (ack.reason === 'USER_SPEECH') this.add('INTERRUPTED', 'reply interrupted by your speech');
  }

  /** These replies are over: none of them is paused any more. */
  over(requestIds: readonly string[]): void {
    for (const id of requestIds) this.pausedIds.delete(id);
    this.showPaused();
  }

  private show(): void {
    const { status } = this.elements;
    status.dataset.state = this.listening ? 'listening' : 'off';
    status.textContent = this.listening ? 'listening' : 'microphone off';
  }

  private showPaused(): void {
    this.elements.paused.hidden = this.pausedIds.size === 0;
  }

  private add(event: string, text: string): HTMLLIElement {
    const item = element('li', { text });
    item.dataset.event = event;
    const { log } = this.elements;
    log.prepend(item);
    while (log.children.length > LOG_LENGTH) log.lastElementChild?.remove();
    return item;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
