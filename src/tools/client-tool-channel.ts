import type { Observable } from 'rxjs';
import type { ToolCall, ToolDefinition } from '@agent-gateway/protocol';
import type { ToolOutcome } from './tool-outcome.js';

/** One request's way to the functions its client declared in REGISTER (FUNCTION_CALL / FUNCTION_RESULT). */
export interface ClientToolChannel {
  readonly clientTools: ReadonlyMap<string, ToolDefinition>;
  /** Cold: sends FUNCTION_CALL on subscribe and emits the client's result; unsubscribing forgets the call. */
  call(call: ToolCall): Observable<ToolOutcome>;
  /** Tells the client to stop working on a call the gateway no longer waits for (FUNCTION_CANCEL). */
  withdraw(callId: string): void;
}
