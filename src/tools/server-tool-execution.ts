import { catchError, defer, finalize, map, type Observable, of, timeout } from 'rxjs';
import { type ServerTool, ToolError } from './server-tool.js';
import type { ToolOutcome } from './tool-outcome.js';
import { abortQuietly } from '../common/abort-quietly.js';

/**
 * One server tool call as a cold Observable of its outcome. Unsubscribing
 * aborts the tool's signal at once (no flag for it to poll). The time limit
 * answers at once too: a tool that ignores its signal is abandoned, never
 * waited for. Failures are outcomes, not errors: the model reads them.
 */
export function executeServerTool(
  tool: ServerTool,
  args: Record<string, unknown>,
  timeoutMs: number,
): Observable<ToolOutcome> {
  return defer(() => {
    const abort = new AbortController();
    return defer(() => tool.execute(args, abort.signal)).pipe(
      map((result): ToolOutcome => ({ ok: true, result })),
      // Only a ToolError's message is meant for the model; anything else is a bug or an I/O detail.
      catchError((error: unknown) => of<ToolOutcome>({ ok: false, error: error instanceof ToolError ? error.message : 'the tool failed' })),
      timeout({ first: timeoutMs, with: () => of<ToolOutcome>({ ok: false, error: `the tool took longer than ${timeoutMs} ms` }) }),
      // Finished, timed out or unsubscribed: the signal fires (for a tool that has finished, it is too late to matter).
      finalize(() => abortQuietly(abort)),
    );
  });
}
