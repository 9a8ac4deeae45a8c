import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { defer, finalize } from 'rxjs';
import { stopOn } from '../common/stop-on.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { KeyConcurrency } from '../http/key-concurrency.js';
import type { CallOptions } from '../llm/relay-part.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { cancellation, StopService } from '../stops/stop.service.js';
import { FrameBatch } from './frame-batch.js';
import { forwardedHeaders, upstreamRequestId } from './forwarded-headers.js';
import { type Exchange, ModelCallReplies } from './model-call-replies.js';
import type { ModelCall } from './wire-api.js';

/**
 * Once the model has finished and only its usage is still to come, a client
 * that leaves does not cut the stream: the last few bytes are read (within
 * this bound), so its usage is the provider's, as if it had stayed.
 */
const USAGE_GRACE_MS = 2_000;

/**
 * Every HTTP model call, whatever API the client speaks, through the same
 * RequestRegistry and providers as WebSocket requests: the client closing its
 * connection is an event (`close` on the response) that completes the
 * request's cancel subject, and the unsubscribe aborts the upstream call —
 * while streaming, while waiting for a non-streamed answer, and before the
 * first byte alike. Listed and cancellable at /v1/requests; one usage record
 * each (usage/).
 */
@Injectable()
export class ModelCalls {
  constructor(
    private readonly registry: RequestRegistry,
    private readonly stops: StopService,
    private readonly replies: ModelCallReplies,
    private readonly concurrency: KeyConcurrency,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(ModelCalls.name) private readonly logger: PinoLogger,
  ) {}

  /** Throws CONCURRENCY_LIMITED when the key already runs HTTP_MAX_CONCURRENT_PER_KEY requests. */
  run(call: ModelCall, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const { requestId } = call;
    const releaseSlot = this.concurrency.acquire(identity.userId);
    const request = this.register(call, identity, releaseSlot);
    const exchange: Exchange = {
      call,
      request,
      res,
      frames: new FrameBatch((data) => this.replies.write(exchange, data)),
      log: this.logger.logger.child({ request_id: requestId, user_id: identity.userId, api: call.api.name }),
      upstreamHeaders: {},
      clientGone: false,
      ended: false,
    };
    res.setHeader('x-request-id', requestId);
    // The disconnect is an event, not something to poll for.
    res.once('close', () => {
      if (!res.writableFinished) this.clientClosed(exchange);
    });
    // A client that left while its body was still being read (a large one is parsed in slices) has already
    // closed: the stop comes before the call, so stopOn never lets it start.
    if (req.socket.destroyed || res.destroyed) this.clientClosed(exchange);
    const { httpApi } = this.config;
    const options: CallOptions = {
      headers: forwardedHeaders(req.headers, httpApi.forwardRequestHeaders, 'upstream'),
      onResponseHeaders: (headers) => {
        const upstreamId = upstreamRequestId(headers);
        exchange.upstreamHeaders = {
          ...forwardedHeaders(headers, httpApi.forwardResponseHeaders, 'downstream'),
          ...(upstreamId && { 'x-upstream-request-id': upstreamId }),
        };
      },
      rename: { id: requestId, model: call.route.name },
    };
    request.usage.startRound(call.prompt);
    // Deferred: whatever building the call throws becomes its failure, its slot and registration given back.
    defer(() => call.parts(options))
      .pipe(
        // Above the stop: runs right after the upstream call is aborted, or after it ended.
        finalize(() => this.replies.upstreamClosed(exchange)),
        stopOn(request.cancelled$),
        finalize(() => {
          exchange.ended = true;
          clearTimeout(exchange.usageGrace);
          this.registry.release(request);
          releaseSlot();
        }),
      )
      .subscribe({
        next: (part) => this.replies.forward(part, exchange),
        error: (error: unknown) => this.replies.fail(error, exchange),
        complete: () => this.completed(exchange),
      });
  }

  /** Stops the call at once, unless all that is left is the usage: then it is read for a moment more. */
  private clientClosed(exchange: Exchange): void {
    const { request } = exchange;
    if (exchange.ended || exchange.clientGone) return;
    const stop = () => this.stops.one(request, cancellation('CLIENT_CLOSED_REQUEST', 'disconnect'));
    if (!request.usage.finished) {
      stop();
      return;
    }
    exchange.clientGone = true;
    exchange.usageGrace = setTimeout(stop, USAGE_GRACE_MS).unref();
  }

  private completed(exchange: Exchange): void {
    // The client left while the usage was read: a 499 like any other (counted as the upstream is let go), with the provider's figures.
    if (exchange.clientGone) exchange.request.cancel(cancellation('CLIENT_CLOSED_REQUEST', 'disconnect'));
    this.replies.complete(exchange);
  }

  private register(call: ModelCall, identity: Identity, releaseSlot: () => void): ActiveRequest {
    try {
      return this.registry.register(
        call.requestId,
        {
          sessionId: `http:${call.requestId}`,
          userId: identity.userId,
          ...(identity.keyName && { keyName: identity.keyName }),
          transport: 'http',
          api: call.api.name,
          model: call.route.name,
        },
        1,
      );
    } catch (error) {
      releaseSlot();
      throw error;
    }
  }
}
