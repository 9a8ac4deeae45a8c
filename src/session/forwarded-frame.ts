import type { ServerMsgType } from '@agent-gateway/protocol';
import type { FrameContent } from './outbound-frame.js';
import type { Lane } from './outbound-queue.js';

/**
 * A frame of a request that runs on one instance for a session that moved to
 * another: it is numbered and logged there, where the session's sockets are.
 */
export type ForwardedFrame =
  | { session_id: string; lane: Lane; request_key?: string; content?: FrameContent; json: { type: ServerMsgType; payload: unknown } }
  | { session_id: string; request_key: string; audio: { request_id: string; voice_stream_seq: number; base64: string } };
