import { Inject, Injectable } from '@nestjs/common';
import { concat, defer, map, merge, type Observable, of, takeUntil, timeout } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { ToolCall, ToolDefinition, ToolStatusPayload } from '@agent-gateway/protocol';
import type { ClientToolChannel } from './client-tool-channel.js';
import type { ToolCallLog, ToolExecutor } from './tool-call-log.js';
import { executeServerTool } from './server-tool-execution.js';
import type { ToolOutcome } from './tool-outcome.js';
import { ToolRegistry } from './tool-registry.service.js';
import type { Uninterruptible } from './uninterruptible.js';

/** How a turn's tools are stopped: at once by `stop$`, unless the tool is not cancellable (then `uninterruptible` holds the stop back). */
export interface ToolStop {
  stop$: Observable<unknown>;
  uninterruptible: Uninterruptible;
}

/**
 * Runs the tool calls of one model call, in parallel, each as a cold
 * Observable: server tools get an AbortSignal that fires on unsubscribe,
 * client tools are asked with FUNCTION_CALL. Every outcome is recorded in the
 * turn's log; the stream says how each call is going, for TOOL_STATUS.
 */
@Injectable()
export class ToolRunner {
  constructor(
    private readonly registry: ToolRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** What the model is offered: the server tools and this client's functions. */
  definitions(clients: ClientToolChannel): ToolDefinition[] {
    return [...this.registry.definitions(), ...clients.clientTools.values()];
  }

  executorOf(name: string, clients: ClientToolChannel): ToolExecutor {
    return clients.clientTools.has(name) && !this.registry.has(name) ? 'client' : 'server';
  }

  run(calls: ToolCall[], turn: ToolCallLog, clients: ClientToolChannel, stop: ToolStop): Observable<ToolStatusPayload> {
    return merge(
      ...calls.map((call) => {
        const run$ = this.runOne(call, turn, clients);
        const cancellable = this.executorOf(call.function.name, clients) === 'client' || this.registry.get(call.function.name)?.cancellable !== false;
        return cancellable ? run$.pipe(takeUntil(stop.stop$)) : stop.uninterruptible.guard(run$);
      }),
    );
  }

  private runOne(call: ToolCall, turn: ToolCallLog, clients: ClientToolChannel): Observable<ToolStatusPayload> {
    const executor = this.executorOf(call.function.name, clients);
    const status = (state: ToolStatusPayload['state'], outcome?: ToolOutcome): ToolStatusPayload => ({
      request_id: turn.requestId,
      call_id: call.id,
      name: call.function.name,
      executor,
      state,
      ...(outcome && !outcome.ok && { error: outcome.error }),
    });
    // Deferred: a call of a turn already interrupted is never subscribed, so it never starts.
    return defer(() => {
      turn.toolStarted(call.id);
      return concat(
        of(status('started')),
        this.outcome(call, executor, clients).pipe(
          map((outcome) => {
            turn.toolSettled(call.id, outcome);
            return status(outcome.ok ? 'completed' : 'failed', outcome);
          }),
        ),
      );
    });
  }

  private outcome(call: ToolCall, executor: ToolExecutor, clients: ClientToolChannel): Observable<ToolOutcome> {
    const { name, arguments: text } = call.function;
    if (executor === 'client') {
      const { clientTimeoutMs } = this.config.tools;
      return clients.call(call).pipe(
        timeout({
          first: clientTimeoutMs,
          // The wait is over (the pending call is forgotten): the client is told to stop, as at an interrupt.
          with: () => {
            clients.withdraw(call.id);
            return of<ToolOutcome>({ ok: false, error: `the client did not answer within ${clientTimeoutMs} ms` });
          },
        }),
      );
    }
    const tool = this.registry.get(name);
    if (!tool) return of({ ok: false, error: `there is no tool named ${name}` });
    const args = parseArguments(text);
    if (!args) return of({ ok: false, error: 'the arguments are not a JSON object' });
    return executeServerTool(tool, args, this.config.tools.serverTimeoutMs);
  }
}

function parseArguments(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text.trim() === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
