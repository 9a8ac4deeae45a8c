import type { Usage } from '@agent-gateway/protocol';

export type UsageOutcome = 'finished' | 'interrupted' | 'client_closed' | 'failed';

/** One request's cost, written once when it ends, however it ended. */
export interface UsageRecord extends Usage {
  request_id: string;
  /** The key's name, or the userId of an unnamed key; never the key. */
  key: string;
  /** The key's identity (derived from its hash): what scopes who sees the record. */
  user_id: string;
  api: string;
  model: string | null;
  outcome: UsageOutcome;
  /** Milliseconds since the Unix epoch. */
  started_at: number;
  duration_ms: number;
}

/** What one key has used since the instance started. */
export interface KeyTotals {
  key: string;
  user_id: string;
  requests: number;
  /** Requests whose usage was counted by the gateway (cut before the provider's figures came). */
  estimated_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
