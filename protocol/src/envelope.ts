/** The JSON envelope every message travels in, in both directions. */
export const PROTOCOL_VERSION = '1.0';

export interface Envelope<T extends string = string, P = unknown> {
  version: typeof PROTOCOL_VERSION;
  msg_type: T;
  session_id?: string;
  /**
   * Server → client, frames of a session's requests: numbered 1, 2, 3… per
   * session, in the order they are sent. RESUME asks for what came after one.
   */
  seq?: number;
  payload: P;
  /** Milliseconds since the Unix epoch, set by the sender. */
  timestamp: number;
}
