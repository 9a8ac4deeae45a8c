import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { PinoLogger } from 'nestjs-pino';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ActiveRequest } from '../requests/active-request.js';
import type { FrameBatch } from './frame-batch.js';
import type { ModelCall, WirePart } from './wire-api.js';

/** Nginx's status for "the client closed the request before the answer": what a stopped chat app did. */
const CLIENT_CLOSED_REQUEST = 499;

/** One model call's request and response, as it goes. */
export interface Exchange {
  call: ModelCall;
  request: ActiveRequest;
  res: ServerResponse;
  /** The stream's frames, written once per burst (see write()). */
  frames: FrameBatch;
  log: PinoLogger['logger'];
  /** Upstream headers the client gets (the allowlist's, and the upstream's request id), once the upstream answered. */
  upstreamHeaders: Record<string, string>;
  /** The client left after the model finished: the rest (its usage) is read, nothing more is written. */
  clientGone: boolean;
  /** While the usage is read for a client that left: the stop that ends the wait. */
  usageGrace?: NodeJS.Timeout;
  /** The call's pipeline has ended: a close from now on is no stop. */
  ended: boolean;
}

/**
 * A model call's answer as it goes: each part written, and each way it can
 * end (finished, stopped, the client gone, failed) written, logged and
 * counted, in the client API's own format.
 */
@Injectable()
export class ModelCallReplies {
  constructor(private readonly metrics: MetricsService) {}

  forward(part: WirePart, exchange: Exchange): void {
    const { request, res } = exchange;
    for (const event of part.events) request.usage.observe(event);
    if (exchange.clientGone || res.destroyed) return;
    if (part.type === 'whole') {
      res.writeHead(200, { ...exchange.upstreamHeaders, 'content-type': 'application/json' }).end(JSON.stringify(part.body));
      return;
    }
    if (part.data !== '') exchange.frames.add(part.data);
  }

  /** A burst of frames, as its FrameBatch writes it: the headers leave with the first. */
  write(exchange: Exchange, data: string): void {
    const { res } = exchange;
    if (exchange.clientGone || res.destroyed) return;
    if (!res.headersSent) startStream(exchange);
    res.write(data);
  }

  complete(exchange: Exchange): void {
    const { request, res, call, log } = exchange;
    const { cancellation } = request;
    const api = call.api.name;
    exchange.frames.flush();
    if (!cancellation) {
      if (call.streaming && !res.destroyed) {
        if (!res.headersSent) startStream(exchange);
        res.end(call.api.streamEnd ?? '');
      }
      this.metrics.httpResponses.inc({ api, status: 200 });
      this.metrics.ended('http', 'finished', request.usage.completionTokens);
      // The tokens counted exactly are the usage record's line (UsageLedger), written after this tick.
      log.info({ status: 200, api, completion_tokens: request.usage.completionTokens }, 'model call finished');
      return;
    }
    if (cancellation.source === 'disconnect') return; // nobody to answer; accounted for once the upstream is closed
    // Stopped by an operator, with the client still there.
    const error = new GatewayError('REQUEST_CANCELLED');
    this.writeError(exchange, error, error.status, error.message);
    this.metrics.httpResponses.inc({ api, status: error.status });
    this.metrics.interrupted('http', cancellation.source, cancellation.reason);
    this.metrics.ended('http', 'interrupted', request.usage.completionTokens, call.limit);
  }

  /** A client that left: logged and counted as 499, with what it cost and how fast the upstream was let go. */
  upstreamClosed({ request, log, call }: Exchange): void {
    const { cancellation } = request;
    if (cancellation?.source !== 'disconnect') return;
    // The same measure as a WebSocket request's, taken as the upstream is let go.
    const latencyMs = request.upstreamClosed() ?? 0;
    this.metrics.interruptUpstreamClosed.observe({ transport: 'http' }, latencyMs / 1000);
    this.metrics.interrupted('http', 'disconnect', cancellation.reason);
    this.metrics.httpResponses.inc({ api: call.api.name, status: CLIENT_CLOSED_REQUEST });
    this.metrics.ended('http', 'client_closed', request.usage.completionTokens, call.limit);
    log.info(
      {
        status: CLIENT_CLOSED_REQUEST,
        api: call.api.name,
        completion_tokens: request.usage.completionTokens,
        upstream_closed_ms: latencyMs,
        duration_ms: Math.round(performance.now() - request.startedAt),
      },
      'client closed request; upstream stream closed',
    );
  }

  fail(error: unknown, exchange: Exchange): void {
    const { request, log, call } = exchange;
    request.markFailed();
    const failure = toGatewayError(error);
    const status = httpStatusOf(failure);
    if (error instanceof UpstreamError) this.metrics.upstreamErrors.inc({ code: failure.code });
    log.warn(
      { status, api: call.api.name, code: failure.code, detail: error instanceof UpstreamError ? error.detail : String(error) },
      'model call failed',
    );
    this.metrics.httpResponses.inc({ api: call.api.name, status });
    this.metrics.ended('http', 'failed', request.usage.completionTokens);
    const provider = failure instanceof UpstreamError ? failure.provider : undefined;
    this.writeError(exchange, failure, status, provider ? clientNamed(provider.message, call) : failure.message);
  }

  private writeError(exchange: Exchange, error: GatewayError, status: number, message: string): void {
    const { res, call } = exchange;
    exchange.frames.flush();
    if (exchange.clientGone || res.destroyed) return;
    const provider = error instanceof UpstreamError ? error.provider : undefined;
    if (res.headersSent) {
      // Mid-stream, as the providers do: an error event, and the stream ends without its usual last frame.
      res.end(call.api.streamError(error, status, message, provider));
      return;
    }
    const retryAfter = error instanceof UpstreamError ? error.retryAfter : undefined;
    res
      .writeHead(status, {
        ...exchange.upstreamHeaders,
        'content-type': 'application/json',
        ...(retryAfter !== undefined && { 'retry-after': retryAfter }),
      })
      .end(JSON.stringify(call.api.errorBody(error, status, message, provider)));
  }
}

/** A provider's words name the model as the upstream calls it; the client sees its own name (the mapping stays the gateway's). */
function clientNamed(message: string, { route }: ModelCall): string {
  return route.model === route.name || route.model === '' ? message : message.replaceAll(route.model, route.name);
}

/** The headers leave with the first frame, in one write. */
function startStream({ res, call, upstreamHeaders }: Exchange): void {
  res.writeHead(200, {
    ...upstreamHeaders,
    'content-type': call.api.streamContentType,
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
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
