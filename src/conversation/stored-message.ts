import type { ChatMessage, HistoryMessage } from '@agent-gateway/protocol';

/** A message of a session's history and what the gateway knows about it. */
export interface StoredMessage {
  message: ChatMessage;
  request_id: string;
  /** Milliseconds since the Unix epoch. */
  at: number;
  interrupted?: { reason: string; kept: 'delivered' | 'heard' };
  failed?: boolean;
}

export function toHistoryMessage(stored: StoredMessage): HistoryMessage {
  return {
    ...stored.message,
    request_id: stored.request_id,
    created_at: stored.at,
    ...(stored.interrupted && { interrupted: stored.interrupted }),
    ...(stored.failed && { failed: true }),
  };
}
