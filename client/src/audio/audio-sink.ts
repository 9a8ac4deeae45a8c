import type { Observable } from 'rxjs';
import type { ClientPayloads } from '@agent-gateway/protocol';
import type { AudioChunk } from './audio-chunk.js';

/** How far a request's audio was played: every frame before `voice_stream_seq`, and `played_ms` into that one. */
export type PlayedPosition = NonNullable<ClientPayloads['INTERRUPT']['played_until']>;

/** A PLAYBACK report, as the gateway takes it. */
export type PlaybackReport = ClientPayloads['PLAYBACK'];

/**
 * Where a client sends the replies' audio (AudioPlayer in browsers). The
 * client stops it the moment the user interrupts, sends the position it
 * stopped at with the INTERRUPT, and forwards its reports as PLAYBACK, so the
 * gateway knows what the user heard. When the user starts speaking over a
 * reply (PLAYBACK_PAUSE), the client pauses it and reports where; it resumes
 * it if that was no interruption (PLAYBACK_RESUME), or stops it.
 */
export interface AudioSink {
  /** Plays a chunk after those already queued. */
  play(requestId: string, chunk: AudioChunk): void;
  /** Stops a request's audio at once; returns how far it had played, if any of it was queued. */
  stop(requestId: string): PlayedPosition | undefined;
  /** Pauses a request's audio at once, keeping it, and what comes for it meanwhile, to resume; returns how far it had played. */
  pause(requestId: string): PlayedPosition | undefined;
  /** Plays a paused request's audio on from exactly where it paused: nothing twice, nothing skipped. */
  resume(requestId: string): void;
  /** Stops everything at once. */
  stopAll(): void;
  /** A report each time a frame has been played to its end. */
  readonly played$: Observable<PlaybackReport>;
}
