import { catchError, connect, filter, finalize, map, merge, type Observable, of, takeUntil, throwError } from 'rxjs';
import type { LlmEvent } from '../llm/llm-events.js';
import type { ToolStatusPayload } from '@agent-gateway/protocol';
import type { SpeechEvent, SpeechService } from '../tts/speech.service.js';
import { type FlowControl, TtsError } from '../tts/tts-provider.js';

export type ReplyEvent =
  | { source: 'llm'; event: LlmEvent }
  | { source: 'tool'; status: ToolStatusPayload }
  | { source: 'speech'; event: SpeechEvent }
  | { source: 'speech-failed'; error: TtsError };

export interface SpeechBranch {
  speech: SpeechService;
  flow: FlowControl;
  /** Stops the speech at once, even while the reply waits for a tool that must finish. */
  stop$: Observable<unknown>;
  /** Runs right after the speech branch is torn down (an interrupt kills the synthesis with it). */
  onTornDown: () => void;
}

/**
 * Adds speech to a reply. The reply's events are shared (`connect`) between
 * the client's frames and the speech branch, which synthesizes the model's
 * text: one subscription reaches the providers and one unsubscribe stops them
 * all. A speech failure becomes an event: the audio ends, the text goes on.
 */
export function withSpeech(reply$: Observable<ReplyEvent>, speech: SpeechBranch): Observable<ReplyEvent> {
  return reply$.pipe(
    connect((shared) =>
      merge(
        shared,
        speech.speech
          .speak(
            shared.pipe(
              filter((event) => event.source === 'llm' && event.event.type === 'text'),
              map((event) => (event.source === 'llm' && event.event.type === 'text' ? event.event.text : '')),
            ),
            speech.flow,
          )
          .pipe(
            map((event): ReplyEvent => ({ source: 'speech', event })),
            catchError((error: unknown) =>
              error instanceof TtsError ? of<ReplyEvent>({ source: 'speech-failed', error }) : throwError(() => error),
            ),
            takeUntil(speech.stop$),
            finalize(speech.onTornDown),
          ),
      ),
    ),
  );
}
