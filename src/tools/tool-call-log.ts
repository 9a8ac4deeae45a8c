import type { ToolOutcome } from './tool-outcome.js';

export type ToolExecutor = 'server' | 'client';

/** Where a running turn records how its tool calls go (agent/turn.ts is one). */
export interface ToolCallLog {
  readonly requestId: string;
  toolStarted(callId: string): void;
  /** Records a call's outcome, unless the turn already gave up on it. */
  toolSettled(callId: string, outcome: ToolOutcome): unknown;
}
