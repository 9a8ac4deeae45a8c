import { Observable } from 'rxjs';
import type { LlmEvent } from '../llm/llm-events.js';
import type { WirePart } from './wire-api.js';

/** A client API's stream written from events: what each event becomes, and what closes the stream. */
export interface EventEncoder {
  /** The frames one event becomes ('' for none). */
  event(event: LlmEvent): string;
  /** The closing frames, once the model is done. */
  end(): string;
}

/** Events written as frames by a stateful encoder: a loop, where mergeMap would build an Observable per event. */
export function encodeEvents(events$: Observable<LlmEvent>, encoder: EventEncoder): Observable<WirePart> {
  return new Observable<WirePart>((subscriber) =>
    events$.subscribe({
      next: (event) => subscriber.next({ type: 'frame', data: encoder.event(event), events: [event] }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        subscriber.next({ type: 'frame', data: encoder.end(), events: [] });
        subscriber.complete();
      },
    }),
  );
}

/**
 * Events gathered into one answer, built when the model is done. Each event
 * is passed on as it comes (as an empty frame), so a call stopped half way is
 * accounted for as far as it went.
 */
export function collectEvents(events$: Observable<LlmEvent>, build: (events: LlmEvent[]) => object): Observable<WirePart> {
  return new Observable<WirePart>((subscriber) => {
    const events: LlmEvent[] = [];
    return events$.subscribe({
      next: (event) => {
        events.push(event);
        subscriber.next({ type: 'frame', data: '', events: [event] });
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        subscriber.next({ type: 'whole', body: build(events), events: [] });
        subscriber.complete();
      },
    });
  });
}
