/**
 * Where this client is in its session's numbered frames: the last `seq` it
 * has seen, which RESUME asks the gateway to replay after. A replay may
 * overlap frames that had already arrived on the old socket; those are
 * dropped here, so that every frame is handled once.
 */
export class ReplayCursor {
  private seq = 0;
  /** The replay a RESUME_ACK announced, until its last frame has arrived. */
  private replay?: { lastSeq: number; through: () => void };

  get lastSeq(): number {
    return this.seq;
  }

  /** Starts at a saved position (a session resumed after a reload), or at 0 for a new session. */
  restart(seq = 0): void {
    this.seq = seq;
  }

  /**
   * Hands a frame to `handle` unless it was seen before. Direct answers
   * (`seq` undefined) are not numbered and always handled.
   */
  receive(seq: number | undefined, handle: () => void): void {
    if (seq !== undefined) {
      if (seq <= this.seq) return;
      this.seq = seq;
    }
    handle();
    const replay = this.replay;
    if (replay && this.seq >= replay.lastSeq) {
      this.replay = undefined;
      replay.through();
    }
  }

  /**
   * Runs `through` once the frames up to `lastSeq` (the RESUME_ACK's) have
   * been handled: only then can the client tell what the replay did not bring.
   */
  awaitReplay(lastSeq: number, through: () => void): void {
    this.replay = { lastSeq, through };
  }
}
