import type { InterruptOutcome, Reply } from '../replies/reply.js';
import type { AudioUplink } from './audio-uplink.js';

/**
 * One push-to-talk turn: a REQUEST whose content is the user's voice. Its
 * START went out when it began; push() sends the audio as it is captured,
 * end() says the turn is over (the gateway recognizes it and replies, on
 * `reply`), cancel() drops it.
 */
export class Utterance {
  /** The stream_seq of the next chunk: START was 0. */
  private nextSeq = 1;
  private over = false;

  constructor(
    /** Its reply, as a text request's: the transcript comes first (TRANSCRIPT, on `transcripts$`), then the answer. */
    readonly reply: Reply,
    private readonly uplink: AudioUplink,
  ) {}

  get requestId(): string {
    return this.reply.requestId;
  }

  /** The turn has ended or been cancelled: nothing more can be pushed. */
  get ended(): boolean {
    return this.over;
  }

  /** More of the turn's audio: 16-bit mono PCM in the session's input format (a big buffer goes as several chunks). */
  push(pcm: Uint8Array): void {
    this.assertOpen();
    if (pcm.length > 0) this.nextSeq = this.uplink.continue(this.requestId, this.nextSeq, pcm);
  }

  /** The user has finished speaking: returns the reply. */
  end(): Reply {
    this.assertOpen();
    this.over = true;
    this.uplink.end(this.requestId, this.nextSeq);
    return this.reply;
  }

  /** Drops the turn: the gateway stops the request (an INTERRUPT), and its reply ends interrupted. */
  cancel(reason = 'USER_CANCEL'): Promise<InterruptOutcome> {
    this.over = true;
    return this.reply.interrupt(reason);
  }

  private assertOpen(): void {
    // Audio after END would be refused by the gateway as out of order, and silently lost here.
    if (this.over) throw new Error(`The utterance ${this.requestId} is over`);
  }
}
