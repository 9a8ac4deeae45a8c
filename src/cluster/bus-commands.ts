import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import type { CancelSource } from '../requests/active-request.js';
import type { ForwardedFrame } from '../session/forwarded-frame.js';

/** A stop asked of the instance that runs the requests. */
export interface CancelCommand {
  session_id: string;
  /** Absent: every request of the session on that instance. */
  request_id?: string;
  reason: string;
  source: CancelSource;
  played_until?: ParsedClientPayloads['INTERRUPT']['played_until'];
  /** The session's last socket closed: only what is not durable stops. */
  non_durable_only?: boolean;
}

/**
 * Every command one gateway instance sends another over Redis pub/sub, with
 * its reply (`void`: none expected). A wrong body does not compile.
 */
export interface BusCommands {
  cancel: { body: CancelCommand; reply: { stopped: string[] } };
  'cancel-user': { body: { user_id: string; reason: string }; reply: { stopped: { session_id: string; request_id: string }[] } };
  /** Gives the session up to the instance `to`, which a client resumed it on. */
  handover: { body: { session_id: string; to: string }; reply: { last_seq: number; active: { request_id: string; key: string }[] } };
  playback: { body: { session_id: string; payload: ParsedClientPayloads['PLAYBACK'] }; reply: void };
  'function-result': { body: { session_id: string; payload: ParsedClientPayloads['FUNCTION_RESULT'] }; reply: void };
  frame: { body: ForwardedFrame; reply: void };
  /** A dead instance's requests of this session are in Redis (ClusterDirectory.takeLost), to be ended. */
  'requests-lost': { body: { session_id: string }; reply: void };
}

export type ClusterReply<K extends keyof BusCommands> = BusCommands[K]['reply'];
