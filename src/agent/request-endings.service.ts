import { Inject, Injectable } from '@nestjs/common';
import { toGatewayError } from '../common/gateway-error.js';
import { since } from '../common/since.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import type { StoredMessage } from '../conversation/stored-message.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ActiveRequest, Cancellation } from '../requests/active-request.js';
import type { RequestContext, RequestLog } from './request-context.js';

/**
 * The three ways a request ends — finished, failed, interrupted — each with
 * its one end frame, sent once the turn is in the history, and its metrics.
 */
@Injectable()
export class RequestEndings {
  constructor(
    private readonly conversations: ConversationService,
    private readonly metrics: MetricsService,
    private readonly llm: LlmProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  finished(context: RequestContext): void {
    const { request, turn, frames, log } = context;
    // After whatever the request still has queued: the audio lane is last.
    this.sendEndOnceRecorded(context, turn.toHistory({ kind: 'finished' }), frames.end({ kind: 'finished' }), 'audio');
    this.metrics.ended(request.owner.transport, 'finished', request.usage.completionTokens);
    log.info({ completion_tokens: request.usage.completionTokens }, 'request finished');
  }

  failed(error: unknown, context: RequestContext): void {
    const { session, request, turn, frames, log } = context;
    const failure = toGatewayError(error);
    request.markFailed();
    log.warn({ code: failure.code, detail: error instanceof UpstreamError ? error.detail : String(error) }, 'request failed');
    turn.cancelUnsettled();
    if (error instanceof UpstreamError) this.metrics.upstreamErrors.inc({ code: failure.code });
    this.metrics.ended(request.owner.transport, 'failed', request.usage.completionTokens);
    // The ERROR and the end frame come after the request's audio: both on the audio lane, which is last.
    session.send('ERROR', failure.toPayload(request.id), { lane: 'audio', request });
    this.sendEndOnceRecorded(context, turn.toHistory({ kind: 'failed' }), frames.end({ kind: 'failed', code: failure.code }), 'audio');
  }

  /**
   * Runs inside the cancel, before the teardown aborts what is running: the
   * client hears about its cancelled tools ahead of the end frame, and the
   * history gets a result for every tool call.
   */
  interrupted(cancellation: Cancellation, context: RequestContext): void {
    const { session, request, turn, frames, log } = context;
    // What never left is not part of the reply: neither the history nor the end frame counts it.
    const dropped = session.dropRequest(request);
    turn.retractText(dropped.textSeqs);
    frames.retract(dropped);
    for (const { call, executor } of turn.cancelUnsettled()) {
      const ids = { request_id: request.id, call_id: call.id };
      session.send('TOOL_STATUS', { ...ids, name: call.function.name, executor, state: 'cancelled' }, { lane: 'control', request });
      if (executor === 'client') session.send('FUNCTION_CANCEL', ids, { lane: 'control', request });
    }
    const end = frames.end({ kind: 'interrupted', cancellation });
    const history = turn.toHistory({ kind: 'interrupted', reason: cancellation.reason, heardText: end.heard_text });
    this.sendEndOnceRecorded(context, history, end, 'control');
    const { transport } = request.owner;
    this.metrics.interrupted(transport, cancellation.source, cancellation.reason);
    // The simulated model's length is known, so what an interrupt saved is too; a real model's is not.
    const limit = this.llm.descriptor.simulated ? this.config.simulated.replyTokens : undefined;
    this.metrics.ended(transport, 'interrupted', request.usage.completionTokens, limit);
    log.info(
      {
        reason: cancellation.reason,
        source: cancellation.source,
        completion_tokens: request.usage.completionTokens,
        latency_ms: since(cancellation.receivedAt),
      },
      'request interrupted',
    );
  }

  /** Each model call's stream was just torn down: after a cancel, how long that took is a figure of its own. */
  upstreamClosed(request: ActiveRequest, log: RequestLog): void {
    const latencyMs = request.upstreamClosed();
    if (latencyMs === undefined) return;
    this.metrics.interruptUpstreamClosed.observe({ transport: request.owner.transport }, latencyMs / 1000);
    log.info({ latency_ms: latencyMs }, 'upstream stream closed');
  }

  /**
   * The end frame leaves once the turn is in the history: a client that sees
   * it may read the history, or start the next turn, on any instance.
   */
  private sendEndOnceRecorded(
    { session, request, onEnd }: RequestContext,
    turn: StoredMessage[],
    end: ReturnType<RequestContext['frames']['end']>,
    lane: 'audio' | 'control',
  ): void {
    void this.conversations.record(session.id, session.userId, turn).then(() => {
      session.send('RESPONSE', end, { lane, request, content: { kind: 'end' } });
      onEnd?.(end);
    });
  }
}
