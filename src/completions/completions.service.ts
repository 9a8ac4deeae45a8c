import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { finalize, takeUntil } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import type { CompletionPart } from '../llm/completion-part.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { ChatCompletionBody } from './chat-completion-body.js';
import { openAiErrorBody } from '../http/openai-error.js';

/** Nginx's status for "the client closed the request before the answer": what a stopped chat app did. */
export const CLIENT_CLOSED_REQUEST = 499;

interface Exchange {
  request: ActiveRequest;
  res: ServerResponse;
  streaming: boolean;
  includeUsage: boolean;
  log: PinoLogger['logger'];
}

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
    private readonly metrics: MetricsService,
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
      if (!res.writableFinished) request.cancel({ reason: 'CLIENT_CLOSED_REQUEST', source: 'disconnect', receivedAt: performance.now() });
    });
    request.usage.startRound();
    this.llm
      .completion({ ...body, model: this.upstreamModel(body.model) })
      .pipe(
        // Above takeUntil: runs right after the upstream call is aborted.
        finalize(() => this.upstreamClosed(exchange, limit)),
        takeUntil(request.cancelled$),
        finalize(() => {
          this.registry.release(request);
          releaseSlot();
        }),
      )
      .subscribe({
        next: (part) => this.forward(part, exchange),
        error: (error: unknown) => this.fail(error, exchange),
        complete: () => this.complete(exchange, limit),
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

  private forward(part: CompletionPart, { request, res, includeUsage }: Exchange): void {
    for (const event of part.events) request.usage.observe(event);
    if (part.type === 'response') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(part.body));
      return;
    }
    // The provider is always asked for usage, so that a cut stream is accounted for; the client gets it if it asked.
    if (!includeUsage && part.events.length > 0 && part.events.every((event) => event.type === 'usage')) return;
    if (!res.headersSent) startStream(res);
    res.write(`data: ${part.data}\n\n`);
  }

  private complete(exchange: Exchange, limit: number | undefined): void {
    const { request, res, streaming, log } = exchange;
    const { cancellation } = request;
    if (!cancellation) {
      if (streaming) {
        if (!res.headersSent) startStream(res);
        res.end('data: [DONE]\n\n');
      }
      this.metrics.httpResponses.inc({ status: 200 });
      this.metrics.ended('http', 'finished', request.usage.completionTokens);
      log.info({ status: 200, completion_tokens: request.usage.completionTokens, usage: request.usage.toUsage() }, 'chat completion finished');
      return;
    }
    if (cancellation.source === 'disconnect') return; // nobody to answer; accounted for once the upstream is closed
    // Stopped by an operator, with the client still there.
    const error = new GatewayError('REQUEST_CANCELLED');
    if (res.headersSent) res.end(`data: ${JSON.stringify(openAiErrorBody(error))}\n\n`);
    else res.writeHead(error.status, { 'content-type': 'application/json' }).end(JSON.stringify(openAiErrorBody(error)));
    this.metrics.httpResponses.inc({ status: error.status });
    this.metrics.interrupted('http', cancellation.source, cancellation.reason);
    this.metrics.ended('http', 'interrupted', request.usage.completionTokens, limit);
  }

  /** A client that left: logged and counted as 499, with what it cost and how fast the upstream was let go. */
  private upstreamClosed({ request, log }: Exchange, limit: number | undefined): void {
    const { cancellation } = request;
    if (cancellation?.source !== 'disconnect') return;
    const latencySeconds = (performance.now() - cancellation.receivedAt) / 1000;
    this.metrics.interruptUpstreamClosed.observe({ transport: 'http' }, latencySeconds);
    this.metrics.interrupted('http', 'disconnect', cancellation.reason);
    this.metrics.httpResponses.inc({ status: CLIENT_CLOSED_REQUEST });
    this.metrics.ended('http', 'client_closed', request.usage.completionTokens, limit);
    log.info(
      {
        status: CLIENT_CLOSED_REQUEST,
        completion_tokens: request.usage.completionTokens,
        usage: request.usage.toUsage(),
        upstream_closed_ms: Math.round(latencySeconds * 1e6) / 1000,
        duration_ms: Math.round(performance.now() - request.startedAt),
      },
      'client closed request; upstream stream closed',
    );
  }

  private fail(error: unknown, { request, res, log }: Exchange): void {
    const failure = toGatewayError(error);
    const status = httpStatusOf(failure);
    if (error instanceof UpstreamError) this.metrics.upstreamErrors.inc({ code: failure.code });
    log.warn({ status, code: failure.code, detail: error instanceof UpstreamError ? error.detail : String(error) }, 'chat completion failed');
    this.metrics.httpResponses.inc({ status });
    this.metrics.ended('http', 'failed', request.usage.completionTokens);
    // The provider's own words about the client's request, as OpenAI's clients expect (never on the WebSocket).
    const message = failure instanceof UpstreamError ? (failure.clientMessage ?? failure.message) : failure.message;
    if (res.headersSent) {
      // Mid-stream, as OpenAI does: an error event, and the stream ends without [DONE].
      res.end(`data: ${JSON.stringify(openAiErrorBody(failure, status, message))}\n\n`);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(openAiErrorBody(failure, status, message)));
  }
}

/** The headers leave with the first chunk, in one write. */
function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

/**
 * The client sees the upstream's error status (a 429 stays a 429, a 500 a
 * 500), except when the upstream refused the gateway's own key (that is the
 * gateway's fault) and for anything that is not an error status (a redirect
 * means nothing to the client): those get the code's status, 502.
 */
function httpStatusOf(error: GatewayError): number {
  const upstream = error instanceof UpstreamError ? error.upstreamStatus : undefined;
  if (upstream === undefined || upstream < 400 || upstream > 599 || upstream === 401 || upstream === 403) return error.status;
  return upstream;
}
