import { Subject } from 'rxjs';
import type { AudioChunk, AudioSink, PlaybackReport, PlayedPosition } from '../../src/index.js';

/**
 * An AudioSink for Node, which has no Web Audio: it records what it is given
 * to play, and the test says how far the listener got (AudioPlayer itself is
 * exercised in Chromium by the browser tests).
 */
export class RecordingSink implements AudioSink {
  readonly chunks: { requestId: string; chunk: AudioChunk }[] = [];
  readonly stopped: string[] = [];
  /** pause() and resume() calls, in order, as `pause:<id>` and `resume:<id>`. */
  readonly pauses: string[] = [];
  stoppedAll = 0;
  private readonly reports = new Subject<PlaybackReport>();
  readonly played$ = this.reports.asObservable();
  private readonly positions = new Map<string, PlayedPosition>();

  play(requestId: string, chunk: AudioChunk): void {
    this.chunks.push({ requestId, chunk });
  }

  /** The listener has heard every frame before `frame`, and `ms` into it; each finished frame is reported. */
  hear(requestId: string, frame: number, ms: number): void {
    for (let seq = 1; seq <= frame; seq++) this.reports.next({ request_id: requestId, voice_stream_seq: seq, played_ms: 0 });
    this.positions.set(requestId, { voice_stream_seq: frame, played_ms: ms });
  }

  stop(requestId: string): PlayedPosition | undefined {
    this.stopped.push(requestId);
    return this.positions.get(requestId);
  }

  pause(requestId: string): PlayedPosition | undefined {
    this.pauses.push(`pause:${requestId}`);
    return this.positions.get(requestId);
  }

  resume(requestId: string): void {
    this.pauses.push(`resume:${requestId}`);
  }

  stopAll(): void {
    this.stoppedAll += 1;
  }

  chunksOf(requestId: string): AudioChunk[] {
    return this.chunks.filter((c) => c.requestId === requestId).map((c) => c.chunk);
  }
}
