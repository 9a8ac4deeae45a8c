import { Observable } from 'rxjs';
import type { ToolOutcome } from './tool-outcome.js';

type Settle = (outcome: ToolOutcome) => void;

/**
 * The FUNCTION_CALLs a session's client has yet to answer, by request and
 * call id: call ids come from the model, and two requests may well be given
 * the same one. A call is known only while its tool Observable is subscribed:
 * once it is torn down (the request was interrupted), a late FUNCTION_RESULT
 * finds nothing and is ignored, so a stale result can never act.
 */
export class PendingFunctionCalls {
  private readonly pending = new Map<string, Settle>();

  /** Cold: registers the call and `announce`s it (sends FUNCTION_CALL) on subscribe, then waits for its result. */
  wait(requestId: string, callId: string, announce: () => void): Observable<ToolOutcome> {
    return new Observable<ToolOutcome>((subscriber) => {
      const key = keyOf(requestId, callId);
      const settle: Settle = (outcome) => {
        subscriber.next(outcome);
        subscriber.complete();
      };
      this.pending.set(key, settle);
      announce();
      // Only its own entry: a later call under the same ids may have taken the place.
      return () => {
        if (this.pending.get(key) === settle) this.pending.delete(key);
      };
    });
  }

  /** False when no such call is waiting (unknown, answered already, or cancelled). */
  settle(requestId: string, callId: string, outcome: ToolOutcome): boolean {
    const settle = this.pending.get(keyOf(requestId, callId));
    if (!settle) return false;
    settle(outcome);
    return true;
  }
}

/** Request ids never contain a line break (see RequestId), so the pair is unambiguous. */
function keyOf(requestId: string, callId: string): string {
  return `${requestId}\n${callId}`;
}
