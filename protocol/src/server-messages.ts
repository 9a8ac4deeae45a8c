import type { ChatMessage } from './chat.js';
import type { Envelope } from './envelope.js';
import type { ErrorCode } from './error-codes.js';
import type { AudioInputAckPayload, VoicePayloads } from './voice-messages.js';

/** Tokens generated for one request, up to its end or its interrupt. */
export interface Usage {
  prompt_tokens: number | null;
  completion_tokens: number;
  total_tokens: number | null;
  /**
   * `provider`: the upstream's own figures. `estimated`: the stream was cut
   * (or the provider sent none) before its usage came, so the gateway counted
   * what was generated until then with a tokenizer (OpenAI's o200k).
   * `prompt_tokens` is then null: counting a long history takes
   * milliseconds, too long for the tick of a stop, so only the request's
   * usage record (HTTP `GET /v1/usage/records`) counts it.
   */
  source: 'provider' | 'estimated';
}

export interface TextDeltaPayload {
  request_id: string;
  text_stream_seq: number;
  content: { text: string } | { reasoning: string };
}

/** How the audio bytes are encoded. */
export interface AudioFormatPayload {
  /** `pcm_s16le`: raw signed 16-bit little-endian samples; otherwise a codec/container name. */
  codec: 'pcm_s16le' | 'mp3' | 'opus' | 'aac' | 'flac' | 'wav';
  sample_rate: number;
  channels: number;
}

export interface AudioPayload {
  request_id: string;
  voice_stream_seq: number;
  content: {
    /** Base64 of the audio bytes. */
    audio: string;
    audio_format: AudioFormatPayload;
    /** Exact for PCM, null for compressed formats. */
    duration_ms: number | null;
    /** Which sentence of the reply this audio speaks (0, 1, …). */
    segment_index: number;
    /** The sentence's text, on the first frame of each sentence. */
    segment_text?: string;
  };
}

export interface EndPayload {
  request_id: string;
  text_stream_seq: -1;
  voice_stream_seq: -1;
  content: Record<string, never>;
  interrupted: boolean;
  interrupt_reason?: string;
  /** The provider's finish_reason when the reply ran to its end. */
  finish_reason?: string | null;
  /** Present when the request ended because of an error (also sent as an ERROR frame). */
  error?: { code: ErrorCode };
  usage: Usage;
  timing: { first_token_ms: number | null; total_ms: number };
  /** Audio frames sent for the request (voice_stream_seq 0 … voice_frames-1). */
  voice_frames: number;
  /** What the user heard, when the client reported its playback (PLAYBACK or INTERRUPT.played_until). */
  heard_text?: string;
  /** Speech failed for this request; the text is complete. */
  tts_error?: { code: ErrorCode };
}

export type ResponsePayload = TextDeltaPayload | AudioPayload | EndPayload;

export interface RegisterAckPayload {
  session_id: string;
  protocol_version: string;
  server_version: string;
  auth_mode: 'api_key' | 'open';
  llm: { provider: string; model: string; simulated: boolean };
  tts: {
    enabled: boolean;
    provider?: string;
    voice?: string;
    audio_format?: AudioFormatPayload;
    audio_transport: 'json' | 'binary';
    /** Why speech is off, when it is. */
    reason?: string;
  };
  limits: {
    max_payload_bytes: number;
    max_concurrent_requests: number;
    max_request_text_chars: number;
    rate_limit_per_second: number;
    rate_limit_burst: number;
    /** INTERRUPTs are limited apart from every other message. */
    interrupt_rate_limit_per_second: number;
    interrupt_rate_limit_burst: number;
  };
  heartbeat: { ping_interval_ms: number; pong_timeout_ms: number };
  /** REQUESTs are durable unless they say otherwise. */
  durable: boolean;
  /** How long a session outlives its last socket (durable requests keep running meanwhile). */
  resume_grace_ms: number;
  /** Present when REGISTER asked for audio_input. */
  audio_input?: AudioInputAckPayload;
}

export interface InterruptAckPayload {
  interrupt_request_id: string | null;
  scope: 'request' | 'session' | 'user';
  /** The requests of this session that this INTERRUPT stopped. */
  interrupted_request_ids: string[];
  /** With scope `user`: how many requests it stopped in the key's other sessions and tasks. */
  stopped_elsewhere?: number;
  status: 'SUCCESS' | 'NOT_FOUND';
  reason: string;
  /**
   * For each request in `interrupted_request_ids` that had a model stream
   * open: milliseconds from the gateway receiving this INTERRUPT to that
   * stream being aborted (the upstream connection closed), on the gateway's
   * clock. A request stopped between model calls (its tools running) or
   * before its first has no entry; absent when no request has one.
   */
  upstream_closed_ms?: Record<string, number>;
}

/** A message of the conversation history, as HISTORY and GET /v1/sessions/:id/history show it. */
export type HistoryMessage = ChatMessage & {
  request_id: string;
  /** Milliseconds since the Unix epoch. */
  created_at: number;
  /** The turn was interrupted; its assistant text is what the user was delivered, or heard. */
  interrupted?: { reason: string; kept: 'delivered' | 'heard' };
  /** The turn ended with an error (the assistant text is what had been delivered). */
  failed?: boolean;
};

export interface HistoryPayload {
  session_id: string;
  messages: HistoryMessage[];
}

export interface ResetAckPayload {
  cleared: number;
}

export interface FunctionCallPayload {
  request_id: string;
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
}

export interface FunctionCancelPayload {
  request_id: string;
  call_id: string;
}

export interface ToolStatusPayload {
  request_id: string;
  call_id: string;
  name: string;
  /** Who runs it: the gateway, or this client (FUNCTION_CALL). */
  executor: 'server' | 'client';
  state: 'started' | 'completed' | 'failed' | 'cancelled';
  /** Shown for failures: what the model was told. */
  error?: string;
}

export interface ResumeAckPayload {
  session_id: string;
  /** The session's latest frame number: after the replay, frames continue from here. */
  last_seq: number;
  /** How many frames were replayed (those after the client's last_seq). */
  replayed: number;
  /** The log no longer reaches back to the client's last_seq: frames were lost; read HISTORY instead. */
  gap: boolean;
  /** Requests of the session still running. */
  active_request_ids: string[];
}

/** The gateway is going away: reconnect (RESUME) elsewhere after `retry_after_ms`. */
export interface ServerShutdownPayload {
  reason: string;
  retry_after_ms: number;
  /** Durable requests are given until then to finish (epoch ms). */
  deadline: number;
}

export interface ServerHeartbeatPayload {
  server_time: number;
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  request_id?: string;
  /** Which fields were wrong, for INVALID_MESSAGE. */
  issues?: { path: string; message: string }[];
}

/** Every message the server sends, by msg_type: a wrong payload does not compile. */
export interface ServerPayloads extends VoicePayloads {
  REGISTER_ACK: RegisterAckPayload;
  RESUME_ACK: ResumeAckPayload;
  SERVER_SHUTDOWN: ServerShutdownPayload;
  RESPONSE: ResponsePayload;
  INTERRUPT_ACK: InterruptAckPayload;
  HEARTBEAT: ServerHeartbeatPayload;
  ERROR: ErrorPayload;
  HISTORY: HistoryPayload;
  RESET_ACK: ResetAckPayload;
  FUNCTION_CALL: FunctionCallPayload;
  FUNCTION_CANCEL: FunctionCancelPayload;
  TOOL_STATUS: ToolStatusPayload;
}

export type ServerMsgType = keyof ServerPayloads;

export type ServerEnvelope<T extends ServerMsgType = ServerMsgType> = {
  [K in T]: Envelope<K, ServerPayloads[K]>;
}[T];

export function isEndPayload(payload: ResponsePayload): payload is EndPayload {
  return 'text_stream_seq' in payload && payload.text_stream_seq === -1;
}

export function isAudioPayload(payload: ResponsePayload): payload is AudioPayload {
  return !('text_stream_seq' in payload);
}

export function isTextDeltaPayload(payload: ResponsePayload): payload is TextDeltaPayload {
  return 'text_stream_seq' in payload && payload.text_stream_seq >= 0;
}
