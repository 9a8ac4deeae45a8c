import type { Observable } from 'rxjs';
import { GatewayError } from '../common/gateway-error.js';
import type { AudioFormatPayload } from '@agent-gateway/protocol';

/** How the audio bytes of a provider are encoded, exactly as announced to clients. */
export type AudioFormat = AudioFormatPayload;

export interface TtsDescriptor {
  provider: string;
  voice: string;
  format: AudioFormat;
}

/**
 * Backpressure from the client's connection: while `paused$` is true the
 * provider stops reading from its source (pauses the child's stdout, the HTTP
 * body, the WebSocket), so a slow client slows synthesis down instead of
 * making the gateway buffer audio without bound.
 */
export interface FlowControl {
  /** Emits its current state at once on subscribe, then every change. */
  paused$: Observable<boolean>;
}

export interface SynthesisRequest {
  text: string;
  /** BCP-47-ish language guess of the text (`zh`, `en`…), for engines that pick a voice by language. */
  language: string;
}

/**
 * A speech engine. `synthesize()` returns a cold Observable of audio bytes in
 * `descriptor.format`: nothing starts before it is subscribed, and
 * unsubscribing tears the synthesis down (kills the process, aborts the HTTP
 * call, closes the socket). It errors with a TtsError.
 */
export abstract class TtsProvider {
  abstract readonly descriptor: TtsDescriptor;
  abstract synthesize(request: SynthesisRequest, flow: FlowControl): Observable<Buffer>;
}

/** A failure of the speech engine; `detail` is for logs only. */
export class TtsError extends GatewayError {
  override readonly name = 'TtsError';

  constructor(
    readonly detail: string,
    cause?: unknown,
  ) {
    super('TTS_ERROR', { cause });
  }
}
