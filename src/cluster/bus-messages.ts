import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import type { ServerMsgType } from '@agent-gateway/protocol';
import type { CancelSource } from '../request-registry/active-request.js';
import type { FrameContent } from '../gateway/outbound-frame.js';
import type { Lane } from '../gateway/outbound-queue.js';

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
 * A frame of a request that runs here for a session that moved to another
 * instance: it is numbered and logged there, where the session's sockets are.
 */
export type ForwardedFrame =
  | { session_id: string; lane: Lane; request_key?: string; content?: FrameContent; json: { type: ServerMsgType; payload: unknown } }
  | { session_id: string; request_key: string; audio: { request_id: string; voice_stream_seq: number; base64: string } };

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

export type BusKind = keyof BusCommands;
export type BusBody<K extends BusKind> = BusCommands[K]['body'];
export type BusReply<K extends BusKind> = BusCommands[K]['reply'];

/** On the wire: a command (`i` set when a reply is expected), or a reply to one. */
export type BusMessage =
  | { f: string; k: BusKind; i?: string; b: unknown }
  | { f: string; r: string; b?: unknown; e?: string };

/**
 * What a handler answers. `afterReply` runs once the reply is on its way, so
 * what it causes (the end frames of a cancelled request) reaches the asking
 * instance after the reply, on the same connection.
 */
export interface Handled<R> {
  reply: R;
  afterReply?: () => void;
}
