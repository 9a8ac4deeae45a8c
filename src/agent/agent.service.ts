import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { defer, finalize, from, switchMap, takeUntil } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import type { StoredMessage } from '../conversation/stored-message.js';
import { Turn } from '../conversation/turn.js';
import { GatewayError, toGatewayError } from '../errors/gateway-error.js';
import type { QueuedRequest } from '../gateway/outbound-frame.js';
import type { Session } from '../gateway/session.js';
import { LlmProvider } from '../llm-stream/llm-provider.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UpstreamError } from '../llm-stream/upstream-error.js';
import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import type { EndPayload } from '@agent-gateway/protocol';
import type { ActiveRequest, Cancellation, CancelSource } from '../request-registry/active-request.js';
import { RequestRegistry } from '../request-registry/request-registry.service.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { SpeechService } from '../tts/speech.service.js';
import { modelRounds } from './model-rounds.js';
import { RemoteControl } from './remote-control.service.js';
import { type ReplyEvent, withSpeech } from './reply-events.js';
import { ReplyFrames } from './reply-frames.js';

type RequestLog = PinoLogger['logger'];
type InterruptScope = 'request' | 'session' | 'user';

/** The requests an INTERRUPT stopped: ids of its own session's, and how many of the key's others. */
interface InterruptOutcome {
  here: string[];
  elsewhere: number;
  /** Measured here, for the requests this instance stopped (another instance's are not known here). */
  upstreamClosedMs: Record<string, number>;
}

/** What one running request needs at hand when its events arrive and when it ends. */
interface RequestContext {
  session: Session;
  request: ActiveRequest;
  turn: Turn;
  frames: ReplyFrames;
  log: RequestLog;
  onEnd?: (end: EndPayload) => void;
}

/**
 * Runs a session's requests. Each is one pipeline — the model calls and tool
 * executions of the turn, shared with speech synthesis — piped through
 * `takeUntil(request.cancelled$)` and subscribed once. An interrupt completes
 * the request's cancel subject: the pipeline unsubscribes, which aborts the
 * upstream HTTP call, the running tools and the speech synthesis, and the
 * turn goes into the history as far as the user got it.
 */
@Injectable()
export class AgentService {
  /**
   * The reply frames of requests that speak, for as long as anything holds
   * their request: audio may wait in a session's queue for a slow client
   * after the request has ended, and an INTERRUPT still drops it.
   */
  private readonly replies = new WeakMap<QueuedRequest, ReplyFrames>();
  /** How long each request's model stream took to close after its cancel was received, for the INTERRUPT_ACK. */
  private readonly upstreamClosedMs = new WeakMap<ActiveRequest, number>();

  constructor(
    private readonly registry: RequestRegistry,
    private readonly llm: LlmProvider,
    private readonly speech: SpeechService,
    private readonly tools: ToolRunner,
    private readonly conversations: ConversationService,
    private readonly metrics: MetricsService,
    private readonly remote: RemoteControl,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(AgentService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * Starts a REQUEST in a session. `onEnd` hears its end frame (REST tasks
   * keep their state from it).
   */
  startRequest(session: Session, payload: ParsedClientPayloads['REQUEST'], onEnd?: (end: EndPayload) => void): void {
    const { request_id: requestId, content } = payload;
    const { maxRequestTextChars, maxConcurrentRequestsPerSession } = this.config.limits;
    if (content.text.length > maxRequestTextChars) {
      throw new GatewayError('INVALID_MESSAGE', {
        requestId,
        message: `content.text is longer than ${maxRequestTextChars} characters`,
      });
    }
    // Still running on the instance the session moved here from.
    if (session.remote.find(requestId)) throw new GatewayError('DUPLICATE_REQUEST', { requestId });
    const request = this.registry.register(
      requestId,
      { sessionId: session.id, userId: session.userId, transport: 'ws' },
      maxConcurrentRequestsPerSession,
      payload.durable ?? session.prefs.durable,
    );
    const speak = this.speech.enabled && (payload.require_tts ?? session.prefs.requireTts);
    const log = this.logger.logger.child({ session_id: session.id, request_id: requestId });
    log.info({ chars: content.text.length, speak }, 'request started');
    const frames = new ReplyFrames(
      request,
      speak ? { ledger: session.speech.open(requestId), format: this.speech.format!, transport: session.prefs.audioTransport } : undefined,
    );
    if (speak) this.replies.set(request, frames);
    const context: RequestContext = { session, request, turn: new Turn(requestId, content.text), frames, log, onEnd };

    const reply$ = defer(() => from(this.conversations.promptFor(session.id))).pipe(
      switchMap((history) =>
        modelRounds({
          llm: this.llm,
          tools: this.tools,
          clients: session.clientToolChannel(request),
          request,
          turn: context.turn,
          history,
          maxRounds: this.config.tools.maxRounds,
          onUpstreamClosed: () => this.upstreamClosed(request, log),
        }),
      ),
    );
    const events$ = speak
      ? withSpeech(reply$, {
          speech: this.speech,
          flow: session.flow,
          onTornDown: () => this.logTornDown(request, log, 'speech torn down'),
        })
      : reply$;
    events$
      .pipe(
        takeUntil(request.cancelled$),
        finalize(() => this.registry.release(request)),
      )
      .subscribe({
        next: (event) => this.forward(event, context),
        error: (error: unknown) => this.failed(error, context),
        complete: () => {
          const { cancellation } = request;
          if (cancellation) this.interrupted(cancellation, context);
          else this.finished(context);
        },
      });
  }

  /**
   * INTERRUPT: stops what its scope names — one request, the session's, or all
   * of the key's — and acknowledges ahead of their end frames. What runs here
   * is stopped at once; what runs on other instances is stopped there, and
   * acknowledged once they confirmed (meanwhile their forwarded frames wait).
   */
  interrupt(session: Session, payload: ParsedClientPayloads['INTERRUPT'], receivedAt: number): void | Promise<void> {
    const requestId = payload.interrupt_request_id ?? undefined;
    const scope = payload.scope ?? (requestId === undefined ? 'session' : 'request');
    if (scope === 'request' && requestId === undefined) {
      throw new GatewayError('INVALID_MESSAGE', { message: 'scope "request" needs interrupt_request_id' });
    }
    this.logger.info(
      { session_id: session.id, request_id: requestId ?? '*', scope, reason: payload.reason, latency_ms: since(receivedAt) },
      'interrupt received',
    );
    // Before the cancel: the end frame and the history take what was heard up to here.
    if (requestId !== undefined && payload.played_until) session.speech.get(requestId)?.reportPlayed(payload.played_until);
    const cancellation = { reason: payload.reason, source: 'client' as const, receivedAt };
    const stopped =
      scope === 'user'
        ? this.registry.cancelUser(session.userId, cancellation)
        : this.registry.cancel(session.id, scope === 'request' ? requestId : undefined, cancellation);
    const here = stopped.filter((request) => request.owner.sessionId === session.id);
    // The cancel above tore the pipelines down synchronously, so the upstream streams are closed by now.
    const upstreamClosed = here.flatMap((r) => {
      const ms = this.upstreamClosedMs.get(r);
      return ms === undefined ? [] : [[r.id, ms] as const];
    });
    if (scope !== 'request' || here.length === 0) this.dropEndedAudio(session, scope === 'request' ? requestId : undefined);
    const local: InterruptOutcome = {
      here: here.map((request) => request.id),
      elsewhere: stopped.length - here.length,
      upstreamClosedMs: Object.fromEntries(upstreamClosed),
    };
    const remote = this.interruptRemote(session, payload, scope, local.here);
    if (!remote) return this.acknowledge(session, payload, scope, local, receivedAt);
    const release = session.remote.hold();
    return remote
      .then((outcome) => {
        for (const id of outcome.here) {
          const remote = session.remote.find(id);
          if (!remote) continue;
          session.remote.markStopping(id);
          session.dropRequest(remote.ref);
        }
        const combined = { ...local, here: [...local.here, ...outcome.here], elsewhere: local.elsewhere + outcome.elsewhere };
        this.acknowledge(session, payload, scope, combined, receivedAt);
      })
      .finally(release);
  }

  /** The part of an INTERRUPT that runs on other instances, if any. */
  private interruptRemote(
    session: Session,
    payload: ParsedClientPayloads['INTERRUPT'],
    scope: InterruptScope,
    stoppedHere: string[],
  ): Promise<InterruptOutcome> | undefined {
    const { reason } = payload;
    const requestId = payload.interrupt_request_id ?? undefined;
    if (scope === 'user') {
      if (!this.remote.enabled) return undefined;
      return this.remote.cancelUserElsewhere(session.userId, reason).then((stopped) => {
        const here = stopped.filter((request) => request.session_id === session.id).map((request) => request.request_id);
        return { here, elsewhere: stopped.length - here.length, upstreamClosedMs: {} };
      });
    }
    if (scope === 'request') {
      const target = requestId !== undefined && !stoppedHere.includes(requestId) ? session.remote.find(requestId) : undefined;
      if (!target) return undefined;
      const command = { session_id: session.id, request_id: target.requestId, reason, source: 'client' as const, played_until: payload.played_until };
      return this.remote.cancelOn(target.instanceId, command).then((here) => ({ here, elsewhere: 0, upstreamClosedMs: {} }));
    }
    if (session.remote.size === 0) return undefined;
    return Promise.all(
      [...session.remote.byInstance().keys()].map((instanceId) =>
        this.remote.cancelOn(instanceId, { session_id: session.id, reason, source: 'client' }),
      ),
    ).then((stopped) => ({ here: stopped.flat(), elsewhere: 0, upstreamClosedMs: {} }));
  }

  private acknowledge(
    session: Session,
    payload: ParsedClientPayloads['INTERRUPT'],
    scope: InterruptScope,
    outcome: InterruptOutcome,
    receivedAt: number,
  ): void {
    session.send(
      'INTERRUPT_ACK',
      {
        interrupt_request_id: payload.interrupt_request_id ?? null,
        scope,
        interrupted_request_ids: outcome.here,
        ...(scope === 'user' && { stopped_elsewhere: outcome.elsewhere }),
        status: outcome.here.length + outcome.elsewhere > 0 ? 'SUCCESS' : 'NOT_FOUND',
        reason: payload.reason,
        ...(Object.keys(outcome.upstreamClosedMs).length > 0 && { upstream_closed_ms: outcome.upstreamClosedMs }),
      },
      { lane: 'urgent' },
    );
    this.metrics.interruptAck.observe((performance.now() - receivedAt) / 1000);
  }

  /**
   * Requests that have ended may still have audio waiting for a slow client:
   * an INTERRUPT naming one (it gets NOT_FOUND: the request is over), or the
   * whole session, drops that audio too. Its end frame, queued behind the
   * audio, stays — a request gets exactly one — and counts only the frames
   * that were sent.
   */
  private dropEndedAudio(session: Session, requestId: string | undefined): void {
    for (const request of session.requestsWithQueuedAudio()) {
      if (requestId !== undefined && request.id !== requestId) continue;
      if (this.registry.find(session.id, request.id) === request) continue; // still running, and not stopped by this INTERRUPT
      this.replies.get(request)?.retract(session.dropRequest(request, 'audio'));
    }
  }

  /** PLAYBACK: the client says how far it has played a request's audio (during or after its generation). */
  playback(session: Session, payload: ParsedClientPayloads['PLAYBACK']): void {
    const ledger = session.speech.get(payload.request_id);
    if (ledger) return ledger.reportPlayed(payload);
    const remote = session.remote.findRecent(payload.request_id);
    if (!remote) throw new GatewayError('UNKNOWN_REQUEST', { requestId: payload.request_id });
    this.remote.playback(remote.instanceId, session.id, payload);
  }

  /** FUNCTION_RESULT: the answer to a FUNCTION_CALL. One for a call that was cancelled is dropped. */
  functionResult(session: Session, payload: ParsedClientPayloads['FUNCTION_RESULT']): void {
    const remote = session.remote.find(payload.request_id);
    if (remote) return this.remote.functionResult(remote.instanceId, session.id, payload);
    const outcome =
      payload.error !== undefined ? { ok: false as const, error: payload.error } : { ok: true as const, result: payload.result ?? null };
    if (!session.functionCalls.settle(payload.request_id, payload.call_id, outcome)) {
      this.logger.info(
        { session_id: session.id, request_id: payload.request_id, call_id: payload.call_id },
        'FUNCTION_RESULT ignored: the call is not pending (cancelled, answered or unknown)',
      );
    }
  }

  /**
   * Cancels what a session still runs — all of it, or only what is not
   * durable (its last socket closed, but it may be resumed).
   */
  cancelSession(session: Session, reason: string, source: CancelSource, onlyNonDurable = false): void {
    const stopped = this.registry.cancel(
      session.id,
      undefined,
      { reason, source, receivedAt: performance.now() },
      (request) => !onlyNonDurable || !request.durable,
    );
    if (stopped.length > 0) {
      this.logger.info({ session_id: session.id, request_ids: stopped.map((r) => r.id), reason }, 'session requests cancelled');
    }
    for (const instanceId of session.remote.byInstance().keys()) {
      void this.remote.cancelOn(instanceId, { session_id: session.id, reason, source, non_durable_only: onlyNonDurable });
    }
  }

  private forward(event: ReplyEvent, { session, request, turn, frames, log }: RequestContext): void {
    switch (event.source) {
      case 'llm': {
        request.usage.observe(event.event);
        const frame = frames.delta(event.event);
        if (!frame) return;
        const seq = frame.text_stream_seq;
        if ('text' in frame.content) turn.appendText(frame.content.text, seq);
        session.send('RESPONSE', frame, { lane: 'text', request, content: { kind: 'text', seq } });
        return;
      }
      case 'tool':
        session.send('TOOL_STATUS', event.status, { lane: 'text', request });
        return;
      case 'speech': {
        if (event.event.type === 'segment-end') return frames.segmentEnded(event.event.segment);
        const frame = frames.audio(event.event.chunk);
        if (frame.kind === 'binary') return session.sendAudio(request, frame.voiceStreamSeq, frame.audio);
        const content = { kind: 'audio' as const, seq: frame.payload.voice_stream_seq };
        session.send('RESPONSE', frame.payload, { lane: 'audio', request, content });
        return;
      }
      case 'speech-failed':
        log.warn({ detail: event.error.detail }, 'speech failed; the reply goes on as text');
        frames.speechFailed(event.error.code);
        session.send('ERROR', event.error.toPayload(request.id), { lane: 'text', request });
    }
  }

  private finished({ session, request, turn, frames, log, onEnd }: RequestContext): void {
    const end = frames.end({ kind: 'finished' });
    // After whatever the request still has queued: the audio lane is last.
    this.endOnceRecorded(session, turn.toHistory({ kind: 'finished' }), () => {
      session.send('RESPONSE', end, { lane: 'audio', request, content: { kind: 'end' } });
      onEnd?.(end);
    });
    this.metrics.ended('ws', 'finished', request.usage.completionTokens);
    log.info({ completion_tokens: request.usage.completionTokens }, 'request finished');
  }

  private failed(error: unknown, { session, request, turn, frames, log, onEnd }: RequestContext): void {
    const failure = toGatewayError(error);
    log.warn({ code: failure.code, detail: error instanceof UpstreamError ? error.detail : String(error) }, 'request failed');
    turn.cancelUnsettled();
    if (error instanceof UpstreamError) this.metrics.upstreamErrors.inc({ code: failure.code });
    this.metrics.ended('ws', 'failed', request.usage.completionTokens);
    // The ERROR and the end frame come after the request's audio: both on the audio lane, which is last.
    session.send('ERROR', failure.toPayload(request.id), { lane: 'audio', request });
    const end = frames.end({ kind: 'failed', code: failure.code });
    this.endOnceRecorded(session, turn.toHistory({ kind: 'failed' }), () => {
      session.send('RESPONSE', end, { lane: 'audio', request, content: { kind: 'end' } });
      onEnd?.(end);
    });
  }

  /**
   * The end frame leaves once the turn is in the history: a client that sees
   * it may read the history, or start the next turn, on any instance.
   */
  private endOnceRecorded(session: Session, turn: StoredMessage[], sendEnd: () => void): void {
    void this.conversations.record(session.id, session.userId, turn).then(sendEnd);
  }

  /**
   * Runs inside the cancel, before the teardown aborts what is running: the
   * client hears about its cancelled tools ahead of the end frame, and the
   * history gets a result for every tool call.
   */
  private interrupted(cancellation: Cancellation, { session, request, turn, frames, log, onEnd }: RequestContext): void {
    const requestId = request.id;
    // What never left is not part of the reply: neither the history nor the end frame counts it.
    const dropped = session.dropRequest(request);
    turn.retractText(dropped.textSeqs);
    frames.retract(dropped);
    for (const { call, executor } of turn.cancelUnsettled()) {
      const { id: callId, function: fn } = call;
      session.send(
        'TOOL_STATUS',
        { request_id: requestId, call_id: callId, name: fn.name, executor, state: 'cancelled' },
        { lane: 'control', request },
      );
      if (executor === 'client') session.send('FUNCTION_CANCEL', { request_id: requestId, call_id: callId }, { lane: 'control', request });
    }
    const end = frames.end({ kind: 'interrupted', cancellation });
    this.endOnceRecorded(session, turn.toHistory({ kind: 'interrupted', reason: cancellation.reason, heardText: end.heard_text }), () => {
      session.send('RESPONSE', end, { lane: 'control', request, content: { kind: 'end' } });
      onEnd?.(end);
    });
    this.metrics.interrupted('ws', cancellation.source, cancellation.reason);
    // The simulated model's length is known, so what an interrupt saved is too; a real model's is not.
    const limit = this.llm.descriptor.simulated ? this.config.simulated.replyTokens : undefined;
    this.metrics.ended('ws', 'interrupted', request.usage.completionTokens, limit);
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

  private upstreamClosed(request: ActiveRequest, log: RequestLog): void {
    const cancellation = request.cancellation;
    if (!cancellation) return;
    const latencyMs = since(cancellation.receivedAt);
    this.upstreamClosedMs.set(request, latencyMs);
    this.metrics.interruptUpstreamClosed.observe({ transport: 'ws' }, latencyMs / 1000);
    log.info({ latency_ms: latencyMs }, 'upstream stream closed');
  }

  private logTornDown(request: ActiveRequest, log: RequestLog, message: string): void {
    const cancellation = request.cancellation;
    if (cancellation) log.info({ latency_ms: since(cancellation.receivedAt) }, message);
  }
}

function since(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}
