import type { JsonValue } from '@agent-gateway/protocol';

/** How a tool call ended; either way it becomes the `role: "tool"` message the model reads. */
export type ToolOutcome = { ok: true; result: JsonValue } | { ok: false; error: string };

export const CANCELLED_BY_USER: ToolOutcome = { ok: false, error: 'cancelled by user' };

/** The content of the tool message: the result as JSON, or `{"error": …}`. */
export function toolMessageContent(outcome: ToolOutcome): string {
  return JSON.stringify(outcome.ok ? outcome.result : { error: outcome.error });
}
