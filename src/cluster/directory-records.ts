import type { EndPayload, ToolDefinition } from '@agent-gateway/protocol';
import type { Transport } from '../common/transport.js';
import type { AudioInputPrefs } from '../session/session.js';

/** A session as other instances see it: who owns it, and enough to take it over. */
export interface SessionRecord {
  user_id: string;
  admin: boolean;
  platform: string;
  require_tts: boolean;
  audio_transport: 'json' | 'binary';
  durable: boolean;
  client_tools: ToolDefinition[];
  audio_input?: AudioInputPrefs;
  created_at: number;
}

/** A request in flight on some instance. */
export interface RequestRecord {
  session_id: string;
  request_id: string;
  user_id: string;
  durable: boolean;
  transport: Exclude<Transport, 'http'>;
  started_at: number;
}

/** A request whose instance died, for the instance that owns its session to end it. */
export interface LostRequest {
  request_id: string;
  /** Text frames the client had been sent (the end frame's counted usage). */
  text_frames: number;
  /** Audio frames the client had been sent. */
  voice_frames: number;
  started_at: number;
}

export type TaskState = 'running' | 'finished' | 'interrupted' | 'failed';

export interface TaskRecord {
  task_id: string;
  session_id: string;
  user_id: string;
  /** The instance that runs it. */
  owner: string;
  state: TaskState;
  created_at: number;
  ended_at: number | null;
  end: EndPayload | null;
}
