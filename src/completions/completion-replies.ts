import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { PinoLogger } from 'nestjs-pino';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import { openAiErrorBody } from '../http/openai-error.js';
import type { CompletionPart } from '../llm/completion-part.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ActiveRequest } from '../requests/active-request.js';

/** Nginx's status for "the client closed the request before the answer": what a stopped chat app did. */
const CLIENT_CLOSED_REQUEST = 499;

/** One chat completion's request and response. */
export interface Exchange {
  request: ActiveRequest;
  res: ServerResponse;
  streaming: boolean;
  includeUsage: boolean;
  log: PinoLogger['logger'];
}

/**
 * A chat completion's answer as it goes: the upstream's parts passed on, and
 * each way it can end (finished, stopped, the client gone, failed) written,
 * logged and counted.
 */
@Injectable()
export class CompletionReplies {
  constructor(private readonly metrics: MetricsService) {}

  forward(part: CompletionPart, { request, res, includeUsage }: Exchange): void {
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

  complete(exchange: Exchange, limit: number | undefined): void {
    const { request, res, streaming, log } = exchange;
    const { cancellation } = request;
    if (!cancellation) {
      if (streaming) {
        if (!res.headersSent) startStream(res);
        res.end('data: [DONE]\n\n');
      }
      this.metrics.httpResponses.inc({ status: 200 });
      this.metrics.ended('http', 'finished', request.usage.completionTokens);
      log.info(
        { status: 200, completion_tokens: request.usage.completionTokens, usage: request.usage.toUsage() },
        'chat completion finished',
      );
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
  upstreamClosed({ request, log }: Exchange, limit: number | undefined): void {
    const { cancellation } = request;
    if (cancellation?.source !== 'disconnect') return;
    // The same measure as a WebSocket request's, taken as the upstream is let go.
    const latencyMs = request.upstreamClosed() ?? 0;
    this.metrics.interruptUpstreamClosed.observe({ transport: 'http' }, latencyMs / 1000);
    this.metrics.interrupted('http', 'disconnect', cancellation.reason);
    this.metrics.httpResponses.inc({ status: CLIENT_CLOSED_REQUEST });
    this.metrics.ended('http', 'client_closed', request.usage.completionTokens, limit);
    log.info(
      {
        status: CLIENT_CLOSED_REQUEST,
        completion_tokens: request.usage.completionTokens,
        usage: request.usage.toUsage(),
        upstream_closed_ms: latencyMs,
        duration_ms: Math.round(performance.now() - request.startedAt),
      },
      'client closed request; upstream stream closed',
    );
  }

  fail(error: unknown, { request, res, log }: Exchange): void {
    const failure = toGatewayError(error);
    const status = httpStatusOf(failure);
    if (error instanceof UpstreamError) this.metrics.upstreamErrors.inc({ code: failure.code });
    log.warn(
      { status, code: failure.code, detail: error instanceof UpstreamError ? error.detail : String(error) },
      'chat completion failed',
    );
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
