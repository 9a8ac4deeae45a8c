import { Observable } from 'rxjs';
import type { LlmEvent } from './llm-events.js';
import type { RelayPart } from './relay-part.js';

/** The events of each relayed part, one by one: a loop, where mergeMap would build an Observable per chunk. */
export function partsToEvents(parts$: Observable<RelayPart>): Observable<LlmEvent> {
  return new Observable<LlmEvent>((subscriber) =>
    parts$.subscribe({
      next: (part) => {
        for (const event of part.events) subscriber.next(event);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
}
