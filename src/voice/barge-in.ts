import type { FalseInterruption } from '@agent-gateway/protocol';

/** A reply the user may be hearing: its id, and its request while that still has frames to send. */
export interface SpeakingReply {
  id: string;
  /** Pauses and resumes through the session (PLAYBACK_PAUSE, the request's audio held). */
  handle: unknown;
}

/** What the barge-in decisions act on, for one session. */
export interface BargeInActions {
  /** The replies the user may be hearing now. */
  speaking(): SpeakingReply[];
  pause(speechId: string, replies: SpeakingReply[]): void;
  resume(speechId: string, replies: SpeakingReply[], reason: FalseInterruption): void;
  /** What those replies have been saying, and how loud their audio was (20 ms a value), for telling echo from the user. */
  agentText(replies: SpeakingReply[]): string;
  agentLoudness(replies: SpeakingReply[]): readonly number[];
  /** A real interruption: the session's replies stop, through the cancel chain (USER_SPEECH). */
  interrupt(): void;
  /** The user's turn becomes a request; returns its id. */
  startTurn(speechId: string, text: string): string | undefined;
  /** Tells echo and backchannels apart from the user's own words. */
  classify(text: string, heard: HeardSpeech): 'user' | 'backchannel' | 'echo' | 'no_words';
}

/** What was heard, beside what the agent was saying then. */
export interface HeardSpeech {
  agentText: string;
  agentLoudness: readonly number[];
  /** The speech's own loudness envelope (empty when not known). */
  loudness: readonly number[];
}

export interface BargeInTimings {
  /** Speech shorter than this never interrupts. */
  minInterruptionMs: number;
  /** The longest a paused reply waits, after the speech ended, for the verdict. */
  falseInterruptionTimeoutMs: number;
}

interface Speech {
  startMs: number;
  /** Paused by this speech, until resumed or interrupted. */
  paused: SpeakingReply[];
  /** What the paused replies were saying when it began. */
  agentText: string;
  agentLoudness: readonly number[];
  state: 'listening' | 'resumed' | 'interrupted';
  timer?: NodeJS.Timeout;
}

/**
 * One session's barge-in: the user starts speaking over a reply → pause it
 * at once; then decide. Long enough, and the transcript has words of the
 * user's own → a real interruption (the reply is stopped, the speech
 * becomes the next turn). Too short, only backchannel, only the agent's own
 * words, or no words → a false one: the reply resumes where it paused. The
 * only owner of these decisions; it holds no audio.
 */
export class BargeIn {
  private readonly speeches = new Map<string, Speech>();

  constructor(
    private readonly actions: BargeInActions,
    private readonly timings: BargeInTimings,
  ) {}

  started(speechId: string, startMs: number): void {
    const replies = this.actions.speaking();
    const speech: Speech = {
      startMs,
      paused: replies,
      agentText: this.actions.agentText(replies),
      agentLoudness: this.actions.agentLoudness(replies),
      state: 'listening',
    };
    this.speeches.set(speechId, speech);
    if (replies.length > 0) this.actions.pause(speechId, replies);
  }

  stopped(speechId: string, endMs: number): void {
    const speech = this.speeches.get(speechId);
    if (speech?.state !== 'listening' || speech.paused.length === 0) return;
    if (endMs - speech.startMs < this.timings.minInterruptionMs) return this.resume(speechId, speech, 'too_short');
    speech.timer = setTimeout(() => this.resume(speechId, speech, 'timeout'), this.timings.falseInterruptionTimeoutMs);
  }

  /**
   * What the recognizer heard of the speech so far (`heardMs` of it).
   * Returns the id of the request the speech starts, if it starts one.
   */
  transcript(speechId: string, text: string, final: boolean, heardMs: number, loudness: readonly number[] = []): string | undefined {
    const speech = this.speeches.get(speechId);
    if (!speech) return undefined;
    const { agentText, agentLoudness } = speech;
    const verdict = this.actions.classify(text, { agentText, agentLoudness, loudness });
    const longEnough = heardMs >= this.timings.minInterruptionMs;
    if (!final) {
      // Words of the user's own while still speaking: no need to wait for the end to stop the reply.
      if (verdict === 'user' && longEnough && speech.state === 'listening' && speech.paused.length > 0) this.interrupt(speech);
      return undefined;
    }
    clearTimeout(speech.timer);
    this.speeches.delete(speechId);
    if (speech.state === 'interrupted') return text ? this.actions.startTurn(speechId, text) : undefined;
    const overReply = speech.paused.length > 0;
    if (overReply && !longEnough) {
      this.resume(speechId, speech, 'too_short');
      return undefined;
    }
    if (verdict === 'no_words' || verdict === 'echo' || (overReply && verdict === 'backchannel')) {
      if (overReply) this.resume(speechId, speech, verdict);
      return undefined;
    }
    // The user's own words; or, with no reply playing, a backchannel that answers ("yes").
    if (overReply || this.actions.speaking().length > 0) this.interrupt(speech);
    return this.actions.startTurn(speechId, text);
  }

  /** The session goes away: no verdict will come. */
  close(): void {
    for (const speech of this.speeches.values()) clearTimeout(speech.timer);
    this.speeches.clear();
  }

  private resume(speechId: string, speech: Speech, reason: FalseInterruption): void {
    if (speech.state !== 'listening') return;
    clearTimeout(speech.timer);
    speech.state = 'resumed';
    this.actions.resume(speechId, speech.paused, reason);
  }

  private interrupt(speech: Speech): void {
    if (speech.state === 'interrupted') return;
    clearTimeout(speech.timer);
    speech.state = 'interrupted';
    this.actions.interrupt();
  }
}
