import { SpeechLedger } from './speech-ledger.js';

/** A session keeps the ledgers of its recent requests: clients report playback after a reply has finished generating. */
const KEPT = 16;

/** The speech ledgers of one session's most recent requests, oldest forgotten first. */
export class SpeechLedgers {
  private readonly ledgers = new Map<string, SpeechLedger>();

  open(requestId: string): SpeechLedger {
    const ledger = new SpeechLedger();
    this.ledgers.delete(requestId);
    this.ledgers.set(requestId, ledger);
    const oldest = this.ledgers.keys().next();
    if (this.ledgers.size > KEPT && !oldest.done) this.ledgers.delete(oldest.value);
    return ledger;
  }

  /** The recent ledgers, by request id. */
  entries(): IterableIterator<[string, SpeechLedger]> {
    return this.ledgers.entries();
  }

  get(requestId: string): SpeechLedger | undefined {
    return this.ledgers.get(requestId);
  }
}
