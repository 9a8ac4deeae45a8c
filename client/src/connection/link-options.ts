import type { JsonSchema } from '@agent-gateway/protocol';
import type { BackoffOptions } from './backoff.js';
import type { WebSocketFactory } from './web-socket-like.js';

/** What the connection needs of the client's options (GatewayClientOptions extends it). */
export interface LinkOptions {
  /** `ws://host:8000/ws/agent` */
  url: string;
  /** A gateway key (not needed when the gateway runs in open mode). */
  apiKey?: string;
  platform?: string;
  /** Speak replies by default (a request may say otherwise). */
  speak?: boolean;
  /** How audio travels: binary WebSocket frames (default: smaller, nothing to decode) or base64 in JSON. */
  audioTransport?: 'json' | 'binary';
  /** Requests keep running while the client reconnects (the session's default; a request may say otherwise). */
  durable?: boolean;
  /** Voice input for the session (REGISTER `audio_input`); absent, it takes text only. */
  audioInput?: AudioInputOptions;
  /** The functions REGISTER declares, by name. */
  functions?: Record<string, { description?: string; parameters?: JsonSchema }>;
  /** HEARTBEAT every `intervalMs`; no answer within `timeoutMs` and the connection counts as dead. Default: the gateway's ping timing from REGISTER_ACK. */
  heartbeat?: { intervalMs: number; timeoutMs: number };
  /** Reconnect (and RESUME) when the connection drops; `false` to give up instead. Default 250 ms doubling up to 5 s. */
  reconnect?: BackoffOptions | false;
  /** Makes the sockets; by default the global WebSocket (browsers, Node ≥ 22). In Node 20: `(url) => new WebSocket(url)` from `ws`. */
  webSocket?: WebSocketFactory;
}

/** How the client's voice reaches the gateway. */
export interface AudioInputOptions {
  /** The rate the client sends its 16-bit mono PCM at, 8000–48000. Default 16000, the rate the gateway recognizes at: nothing to resample there. */
  sampleRate?: number;
  /** `server_vad` (default): hands-free, the gateway finds the turns in the microphone's stream; `manual`: push-to-talk, each turn one utterance. */
  turnDetection?: 'server_vad' | 'manual';
  /** The user's language (`en`, `zh`…), for recognition and for telling a backchannel ("uh-huh") from an interruption; default: the gateway's. */
  language?: string;
}

/** 16 kHz: what the gateway's recognizers take. */
export const DEFAULT_INPUT_SAMPLE_RATE = 16_000;
