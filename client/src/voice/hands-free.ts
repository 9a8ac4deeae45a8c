import { BehaviorSubject, type Observable } from 'rxjs';
import type { AudioCapture, AudioSource, CaptureFormat } from '../audio/audio-source.js';

/**
 * The microphone, open or not, for hands-free listening: while it is open
 * every chunk it captures goes to the gateway, which finds the user's turns
 * (and barge-ins) in the stream.
 */
export class HandsFree {
  private readonly listeningSubject = new BehaviorSubject(false);
  /** True while the microphone is open and streaming. */
  readonly listening$: Observable<boolean> = this.listeningSubject.asObservable();
  private capture?: AudioCapture;
  private opening?: Promise<void>;
  /** stop() was called while the device was being opened: it is closed as soon as it opens. */
  private cancelled = false;

  constructor(private readonly stream: (pcm: Uint8Array) => void) {}

  get listening(): boolean {
    return this.listeningSubject.value;
  }

  /** Opens the source and streams it; resolves once it is capturing (at once if it already is). */
  start(source: AudioSource, format: CaptureFormat): Promise<void> {
    if (this.capture) return Promise.resolve();
    this.cancelled = false;
    this.opening ??= source
      .open(format)
      .then((capture) => this.run(capture))
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Closes the microphone (its device released); the gateway hears silence, and ends a turn that was being spoken. */
  stop(): void {
    this.cancelled = this.opening !== undefined;
    this.capture?.stop();
  }

  private run(capture: AudioCapture): void {
    if (this.cancelled) {
      capture.stop();
      return;
    }
    this.capture = capture;
    this.listeningSubject.next(true);
    const over = (): void => {
      if (this.capture !== capture) return;
      this.capture = undefined;
      this.listeningSubject.next(false);
    };
    capture.chunks$.subscribe({ next: (pcm) => this.stream(pcm), complete: over, error: over });
  }
}
