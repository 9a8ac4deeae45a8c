import type { Readable } from 'node:stream';
import type { EventSourceParser } from 'eventsource-parser';

/** Past a stream's last event, what is still read (so the connection goes back to the pool) before the body is dropped. */
const MAX_TRAILING_BYTES = 64 * 1024;

export interface EventStreamEnd {
  /** The parser has seen the stream's last event ([DONE], transcript.text.done…). */
  done: () => boolean;
  /** Settle as soon as `done()`, and take a body error after it as no failure: the caller has its answer. */
  settleWhenDone?: boolean;
}

/**
 * Feeds a response body of server-sent events to an eventsource-parser until
 * the body ends. What comes after the last event is read and ignored, within
 * a bound; an error the parser's callbacks throw destroys the body and rejects.
 */
export function readEventStream(body: Readable, parser: EventSourceParser, end: EventStreamEnd): Promise<void> {
  const decoder = new TextDecoder();
  let trailingBytes = 0;
  return new Promise<void>((resolve, reject) => {
    body.on('data', (chunk: Buffer) => {
      if (end.done()) {
        trailingBytes += chunk.length;
        if (trailingBytes > MAX_TRAILING_BYTES) body.destroy();
        return;
      }
      try {
        parser.feed(decoder.decode(chunk, { stream: true }));
      } catch (error) {
        body.destroy();
        reject(error);
        return;
      }
      if (end.settleWhenDone && end.done()) resolve();
    });
    body.once('end', resolve);
    body.once('error', (error) => (end.settleWhenDone && end.done() ? resolve() : reject(error)));
  });
}
