import { Inject, Injectable } from '@nestjs/common';
import { defer, from, type Observable, switchMap } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { SpeechService } from '../tts/speech.service.js';
import type { AudioFormat } from '../tts/tts-provider.js';
import { modelRounds } from './model-rounds.js';
import type { RequestContext } from './request-context.js';
import { type ReplyEvent, withSpeech } from './reply-events.js';

/**
 * A request's reply as one cold stream: the history, then the turn's model
 * calls and tool executions, with speech synthesis sharing the text when the
 * request speaks. Nothing runs before it is subscribed; unsubscribing tears
 * every stage down.
 */
@Injectable()
export class ReplyStream {
  constructor(
    private readonly llm: LlmProvider,
    private readonly speech: SpeechService,
    private readonly tools: ToolRunner,
    private readonly conversations: ConversationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The format the reply is spoken in: none unless speech is on and the request (or its session) asks for it. */
  speechFormat(asked: boolean): AudioFormat | undefined {
    return this.speech.enabled && asked ? this.speech.format : undefined;
  }

  of(
    context: RequestContext,
    hooks: { speak: boolean; onUpstreamClosed: () => void; onSpeechTornDown: () => void },
  ): Observable<ReplyEvent> {
    const { session, request, turn } = context;
    const reply$ = defer(() => from(this.conversations.promptFor(session.id))).pipe(
      switchMap((history) =>
        modelRounds({
          llm: this.llm,
          tools: this.tools,
          clients: session.clientToolChannel(request),
          request,
          turn,
          history,
          maxRounds: this.config.tools.maxRounds,
          uninterruptible: context.uninterruptible,
          onUpstreamClosed: hooks.onUpstreamClosed,
        }),
      ),
    );
    if (!hooks.speak) return reply$;
    return withSpeech(reply$, { speech: this.speech, flow: session.flow, stop$: request.cancelled$, onTornDown: hooks.onSpeechTornDown });
  }
}
