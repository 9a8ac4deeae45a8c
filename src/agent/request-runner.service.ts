import type { EndPayload } from '@agent-gateway/protocol';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { defer, finalize, isObservable, type Observable, of, switchMap, take, tap } from 'rxjs';
import { stopOn } from '../common/stop-on.js';
import { GatewayError } from '../common/gateway-error.js';
import { since } from '../common/since.js';
import type { Transport } from '../common/transport.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { Session } from '../session/session.js';
import { forwardReplyEvent } from './reply-forwarder.js';
import { ReplyFrames } from './reply-frames.js';
import { ReplyStream } from './reply-stream.service.js';
import type { RequestContext } from './request-context.js';
import { RequestEndings } from './request-endings.service.js';
import { SpokenReplies } from './spoken-replies.js';
import { Uninterruptible } from '../tools/uninterruptible.js';
import { Turn } from './turn.js';

export interface RequestInput {
  requestId: string;
  /**
   * The user's text; or, for a spoken turn, its transcript to come (one
   * value): the request exists, and can be stopped, from the start of the
   * speech, and its reply starts once the transcript is final.
   */
  prompt: string | Observable<string>;
  requireTts?: boolean;
  durable?: boolean;
}

export interface RunOptions {
  /** A WebSocket REQUEST, or a REST task. */
  transport: Exclude<Transport, 'http'>;
  /** Hears the end frame (REST tasks keep their state from it). */
  onEnd?: (end: EndPayload) => void;
}

/**
 * Runs a session's requests. Each is one pipeline — the model calls and tool
 * executions of the turn, shared with speech synthesis (ReplyStream) — piped
 * through `stopOn(request.cancelled$)` (takeUntil, the source let go first) and subscribed once. A stop
 * completes the request's cancel subject: the pipeline unsubscribes, which
 * aborts the upstream HTTP call, the running tools and the speech synthesis,
 * and the turn goes into the history as far as the user got it
 * (RequestEndings).
 */
@Injectable()
export class RequestRunner {
  constructor(
    private readonly registry: RequestRegistry,
    private readonly stream: ReplyStream,
    private readonly endings: RequestEndings,
    private readonly spoken: SpokenReplies,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(RequestRunner.name) private readonly logger: PinoLogger,
  ) {}

  /** Starts a request in a session; throws its refusal (too long, duplicate, too many, draining). */
  start(session: Session, input: RequestInput, options: RunOptions): void {
    const { requestId, prompt } = input;
    if (typeof prompt === 'string') this.checkLength(prompt, requestId);
    // Still running on the instance the session moved here from.
    if (session.remote.find(requestId)) throw new GatewayError('DUPLICATE_REQUEST', { requestId });
    const request = this.registry.register(
      requestId,
      {
        sessionId: session.id,
        userId: session.userId,
        ...(session.identity.keyName && { keyName: session.identity.keyName }),
        transport: options.transport,
        api: options.transport,
      },
      this.config.limits.maxConcurrentRequestsPerSession,
      input.durable ?? session.prefs.durable,
    );
    const format = this.stream.speechFormat(input.requireTts ?? session.prefs.requireTts);
    const speak = format !== undefined;
    const log = this.logger.logger.child({ session_id: session.id, request_id: requestId });
    log.info({ spoken: isObservable(prompt), speak }, 'request started');
    const speech = format && {
      ledger: session.speech.open(requestId),
      format,
      transport: session.prefs.audioTransport,
      listens: session.prefs.audioInput !== undefined,
    };
    const frames = new ReplyFrames(request, speech);
    if (speak) this.spoken.add(request, frames);
    const context: RequestContext = {
      session,
      request,
      turn: new Turn(requestId),
      frames,
      uninterruptible: new Uninterruptible(),
      log,
      onEnd: options.onEnd,
    };
    const prompt$ = isObservable(prompt) ? prompt.pipe(take(1)) : of(prompt);

    defer(() => prompt$)
      .pipe(
        tap((text) => {
          if (isObservable(prompt)) this.checkLength(text, requestId);
          context.turn.said(text);
        }),
        switchMap(() =>
          this.stream.of(context, {
            speak,
            onUpstreamClosed: () => this.endings.upstreamClosed(request, log),
            onSpeechTornDown: () => {
              if (request.cancellation) log.info({ latency_ms: since(request.cancellation.receivedAt) }, 'speech torn down');
            },
          }),
        ),
        // A stop waits only for tools that must finish; the speech stops at once all the same (ReplyStream).
        // The provider is cut first, then the end frame and the history are written.
        stopOn(context.uninterruptible.deferStop(request.cancelled$)),
        finalize(() => this.registry.release(request)),
      )
      .subscribe({
        next: (event) => forwardReplyEvent(event, context),
        error: (error: unknown) => this.endings.failed(error, context),
        complete: () => {
          const { cancellation } = request;
          if (cancellation) this.endings.interrupted(cancellation, context);
          else this.endings.finished(context);
        },
      });
  }

  private checkLength(text: string, requestId: string): void {
    const { maxRequestTextChars } = this.config.limits;
    if (text.length > maxRequestTextChars) {
      throw new GatewayError('INVALID_MESSAGE', { requestId, message: `content.text is longer than ${maxRequestTextChars} characters` });
    }
  }
}
