import { ReplaySubject } from 'rxjs';
import { type InterruptOutcome, Reply, type ReplyOrigin } from './reply.js';
import type { ReplyFrame } from './reply-frame.js';

/** The client's side of one request: where its frames go, and whether the user stopped it. */
export class ReplyChannel {
  readonly reply: Reply;
  /** Set by an interrupt, before its ACK: what still arrives for the request, but its end frame, is dropped. */
  interrupted = false;
  /** The interrupt's reason, to send it again if the gateway never got it. */
  interruptReason = '';
  /** The REQUEST has gone out on a socket (it may wait in the outbox while the client reconnects). */
  sent = false;
  /** Frames delivered so far (a refusal can only come before the first). */
  received = 0;
  private readonly frames = new ReplaySubject<ReplyFrame>();
  private finished = false;

  constructor(requestId: string, interrupt: (reason: string) => Promise<InterruptOutcome>, origin: ReplyOrigin) {
    this.reply = new Reply(requestId, this.frames.asObservable(), { interrupt, interrupted: () => this.interrupted }, origin);
  }

  get requestId(): string {
    return this.reply.requestId;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Returns false when the frame was dropped (the reply was interrupted, or is over). */
  push(frame: ReplyFrame): boolean {
    if (this.finished || (this.interrupted && frame.kind !== 'end')) return false;
    this.received += 1;
    this.frames.next(frame);
    if (frame.kind === 'end') {
      this.finished = true;
      this.frames.complete();
    }
    return true;
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.frames.error(error);
  }
}
