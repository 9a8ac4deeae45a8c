import type { Observable } from 'rxjs';
import type { ClientPayloads } from '@agent-gateway/protocol';

/** The PCM a session takes from its microphone (REGISTER `audio_input.audio_format`): 16-bit mono, at its rate. */
export type CaptureFormat = NonNullable<ClientPayloads['REGISTER']['audio_input']>['audio_format'];

/** A capture running: its audio, until it is stopped. */
export interface AudioCapture {
  /** The PCM, in chunks (about 20 ms each); completes when the capture stops, by stop() or because the device went away. */
  readonly chunks$: Observable<Uint8Array<ArrayBuffer>>;
  /** Stops capturing and releases the device. */
  stop(): void;
}

/**
 * Where the client's voice comes from (Microphone in browsers). The client
 * opens it for hands-free listening and streams what it captures.
 */
export interface AudioSource {
  /** Starts capturing in `format`; rejects when there is no device to be had (refused, absent, busy). */
  open(format: CaptureFormat): Promise<AudioCapture>;
}
