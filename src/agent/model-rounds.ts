import { concat, defer, EMPTY, finalize, map, type Observable, tap } from 'rxjs';
import type { Turn } from './turn.js';
import type { LlmProvider } from '../llm/llm-provider.js';
import type { ChatMessage } from '@agent-gateway/protocol';
import type { ActiveRequest } from '../requests/active-request.js';
import type { ClientToolChannel } from '../tools/client-tool-channel.js';
import { ToolCallAccumulator } from '../llm/tool-call-accumulator.js';
import type { ToolRunner } from '../tools/tool-runner.service.js';
import type { Uninterruptible } from '../tools/uninterruptible.js';
import type { ReplyEvent } from './reply-events.js';

export interface ModelRoundsContext {
  llm: LlmProvider;
  tools: ToolRunner;
  clients: ClientToolChannel;
  request: ActiveRequest;
  turn: Turn;
  /** The history the turn builds on. */
  history: ChatMessage[];
  maxRounds: number;
  /** Tools not declared uncancellable stop with the request at once; the others hold its stop back until they finish. */
  uninterruptible: Uninterruptible;
  /** Runs right after each model call's teardown. */
  onUpstreamClosed: () => void;
}

/**
 * The tool loop as one cold stream: a model call; if it asked for tools,
 * their execution (in parallel), then the next model call with their results;
 * up to `maxRounds` calls. Each stage is deferred, so nothing of a turn that
 * has been interrupted starts, and unsubscribing tears down whichever stage
 * is running.
 */
export function modelRounds(context: ModelRoundsContext, round = 0): Observable<ReplyEvent> {
  const { llm, tools, clients, request, turn, history, maxRounds } = context;
  return defer(() => {
    turn.startRound();
    const calls = new ToolCallAccumulator();
    const definitions = tools.definitions(clients);
    const prompt = { messages: [...history, ...turn.promptMessages()], ...(definitions.length > 0 && { tools: definitions }) };
    request.usage.startRound(prompt);
    const model$ = llm.stream(prompt).pipe(
      tap((event) => calls.observe(event)),
      finalize(context.onUpstreamClosed),
      map((event): ReplyEvent => ({ source: 'llm', event })),
    );
    const next$ = defer((): Observable<ReplyEvent> => {
      const requested = calls.calls();
      if (requested.length === 0) return EMPTY;
      turn.requestTools(requested, (name) => tools.executorOf(name, clients));
      if (round + 1 >= maxRounds) {
        // Refused, not dropped: every call in the history needs a result.
        for (const call of requested) turn.toolSettled(call.id, { ok: false, error: `no more than ${maxRounds} model calls per turn` });
        return EMPTY;
      }
      return concat(
        tools
          .run(requested, turn, clients, { stop$: request.cancelled$, uninterruptible: context.uninterruptible })
          .pipe(map((status): ReplyEvent => ({ source: 'tool', status }))),
        modelRounds(context, round + 1),
      );
    });
    return concat(model$, next$);
  });
}
