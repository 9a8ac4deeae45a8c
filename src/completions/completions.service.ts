import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { finalize, takeUntil } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import { LlmProvider } from '../llm/llm-provider.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { cancellation, StopService } from '../stops/stop.service.js';
import type { ChatCompletionBody } from './chat-completion-body.js';
import { CompletionReplies, type Exchange } from './completion-replies.js';

/**
 * `POST /v1/chat/completions`, through the same RequestRegistry and
 * LlmProvider as WebSocket requests: the client closing its connection is an
 * event (`close` on the response) that completes the request's cancel
 * subject, and the unsubscribe aborts the upstream call — while streaming,
 * while waiting for a non-streamed answer, and before the first byte alike.
 */
@Injectable()
export class CompletionsService {
  constructor(
    private readonly registry: RequestRegistry,
    private readonly llm: LlmProvider,
    private readonly stops: StopService,
    private readonly replies: CompletionReplies,
    private readonly concurrency: KeyConcurrency,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(CompletionsService.name) private readonly logger: PinoLogger,
  ) {}

  /** The upstream name of a model a client asks for. */
  upstreamModel(requested: string | undefined): string {
    if (!requested) return this.config.llm.model;
    return this.config.llm.modelMap[requested] ?? requested;
  }

  /** The names clients may use: the configured model and the mapped ones. */
  models(): string[] {
    return [...new Set([this.llm.descriptor.model, ...Object.keys(this.config.llm.modelMap)])];
  }

  /** Throws CONCURRENCY_LIMITED when the key already runs HTTP_MAX_CONCURRENT_PER_KEY requests. */
  handle(body: ChatCompletionBody, identity: Identity, res: ServerResponse): void {
    const requestId = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const releaseSlot = this.concurrency.acquire(identity.userId);
    const request = this.register(requestId, identity, releaseSlot);
    const exchange: Exchange = {
      request,
      res,
      streaming: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      log: this.logger.logger.child({ request_id: requestId, user_id: identity.userId }),
    };
    const limit = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    res.setHeader('x-request-id', requestId);
    // The disconnect is an event, not something to poll for.
    res.once('close', () => {
      if (!res.writableFinished) this.stops.one(request, cancellation('CLIENT_CLOSED_REQUEST', 'disconnect'));
    });
    request.usage.startRound();
    this.llm
      .completion({ ...body, model: this.upstreamModel(body.model) })
      .pipe(
        // Above takeUntil: runs right after the upstream call is aborted.
        finalize(() => this.replies.upstreamClosed(exchange, limit)),
        takeUntil(request.cancelled$),
        finalize(() => {
          this.registry.release(request);
          releaseSlot();
        }),
      )
      .subscribe({
        next: (part) => this.replies.forward(part, exchange),
        error: (error: unknown) => this.replies.fail(error, exchange),
        complete: () => this.replies.complete(exchange, limit),
      });
  }

  private register(requestId: string, identity: Identity, releaseSlot: () => void): ActiveRequest {
    try {
      return this.registry.register(requestId, { sessionId: `http:${requestId}`, userId: identity.userId, transport: 'http' }, 1);
    } catch (error) {
      releaseSlot();
      throw error;
    }
  }
}
