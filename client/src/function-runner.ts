import { defer, finalize, fromEvent, type Observable, takeUntil } from 'rxjs';
import type { ClientPayloads, FunctionCallPayload, JsonValue } from '@agent-gateway/protocol';
import type { ClientFunction } from './client-options.js';

/** A FUNCTION_RESULT error longer than the gateway takes would be refused. */
const MAX_FUNCTION_ERROR_CHARS = 4000;

/**
 * Runs the client's functions when the model calls them: FUNCTION_CALL →
 * the handler → FUNCTION_RESULT, its value or what it threw. A call that is
 * withdrawn (FUNCTION_CANCEL, its request over or stopped) is aborted and
 * sends nothing.
 */
export class FunctionRunner {
  /** Running calls by call id. */
  private readonly running = new Map<string, { requestId: string; abort: AbortController }>();

  constructor(
    private readonly functions: Record<string, ClientFunction> | undefined,
    private readonly sendResult: (result: ClientPayloads['FUNCTION_RESULT']) => void,
    private readonly closing$: Observable<void>,
  ) {}

  run(call: FunctionCallPayload): void {
    const { request_id: requestId, call_id: callId, name } = call;
    const abort = new AbortController();
    this.running.set(callId, { requestId, abort });
    defer(async () => {
      // Own names only: a model asking for `toString` finds no function.
      const fn = this.functions && Object.hasOwn(this.functions, name) ? this.functions[name] : undefined;
      if (!fn) throw new Error(`This client has no function ${name}`);
      return fn.run(JSON.parse(call.arguments) as JsonValue, { requestId, callId, name, signal: abort.signal });
    })
      .pipe(
        // Withdrawn: the gateway wants no result.
        takeUntil(fromEvent(abort.signal, 'abort')),
        takeUntil(this.closing$),
        finalize(() => this.running.delete(callId)),
      )
      .subscribe({
        next: (result) => this.sendResult({ request_id: requestId, call_id: callId, result }),
        error: (error: unknown) =>
          this.sendResult({
            request_id: requestId,
            call_id: callId,
            error: (error instanceof Error ? error.message : String(error)).slice(0, MAX_FUNCTION_ERROR_CHARS),
          }),
      });
  }

  /** FUNCTION_CANCEL: the gateway withdrew the call. */
  cancel(callId: string): void {
    this.running.get(callId)?.abort.abort();
  }

  abortFor(requestId: string): void {
    for (const call of this.running.values()) if (call.requestId === requestId) call.abort.abort();
  }
}
