import { Observable, type OperatorFunction } from 'rxjs';
import { type SegmenterOptions, SentenceSegmenter } from './sentence-segmenter.js';

/** Streamed text in, segments worth synthesizing out, the rest flushed when the text completes. */
export function segmentSentences(options: SegmenterOptions): OperatorFunction<string, string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      const segmenter = new SentenceSegmenter(options);
      return source.subscribe({
        next: (text) => {
          for (const segment of segmenter.push(text)) subscriber.next(segment);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          for (const segment of segmenter.end()) subscriber.next(segment);
          subscriber.complete();
        },
      });
    });
}

/**
 * Re-cuts a byte stream into pieces of exactly `size` bytes (the last one may
 * be shorter), so that every audio frame lasts the same time whatever the
 * provider's chunking. `size` must be a multiple of the sample size.
 */
export function rechunk(size: number): OperatorFunction<Buffer, Buffer> {
  return (source) =>
    new Observable<Buffer>((subscriber) => {
      let pending: Buffer = Buffer.alloc(0);
      return source.subscribe({
        next: (bytes) => {
          pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
          let offset = 0;
          for (; pending.length - offset >= size; offset += size) subscriber.next(pending.subarray(offset, offset + size));
          pending = pending.subarray(offset);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          if (pending.length > 0) subscriber.next(pending);
          subscriber.complete();
        },
      });
    });
}
