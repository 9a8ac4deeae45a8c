import type { Observable } from 'rxjs';
import { GatewayError } from '../common/gateway-error.js';

/** What recognizes speech, as REGISTER_ACK reports it. */
export interface AsrDescriptor {
  provider: string;
  model: string;
}

/** What the recognizer has heard: interim text (may still change), then one final text (may be empty). */
export type AsrEvent = { type: 'partial'; text: string } | { type: 'final'; text: string };

/** Every recognizer is fed 16 kHz mono 16-bit PCM (the gateway resamples the client's audio to it). */
export const ASR_SAMPLE_RATE = 16_000;

export interface RecognitionRequest {
  /** `en`, `zh`, … */
  language: string;
}

/**
 * A speech recognizer. `transcribe()` returns a cold Observable: subscribing
 * starts the recognition (spawns the process, opens the socket) and
 * subscribes to `audio$`, chunks of one utterance in 16 kHz mono s16le, fed
 * to the engine as they come, so that recognition overlaps the speech. When
 * `audio$` completes the utterance is over: the engine finishes, emits one
 * `final` event and completes. Unsubscribing at any moment tears it down
 * (kills the process, aborts the upload, terminates the socket). It errors
 * with an AsrError.
 */
export abstract class AsrProvider {
  abstract readonly descriptor: AsrDescriptor;
  abstract transcribe(audio$: Observable<Buffer>, request: RecognitionRequest): Observable<AsrEvent>;
}

/** A failure of the recognizer; `detail` is for logs only. */
export class AsrError extends GatewayError {
  override readonly name = 'AsrError';

  constructor(
    readonly detail: string,
    cause?: unknown,
  ) {
    super('ASR_ERROR', { cause });
  }
}
