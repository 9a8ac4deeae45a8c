import type { JsonSchema, JsonValue, RegisterAckPayload } from '@agent-gateway/protocol';
import type { AudioSink } from './audio/audio-sink.js';
import type { LinkOptions } from './connection/link-options.js';

/** A function the model may call, run by this client (FUNCTION_CALL → FUNCTION_RESULT). */
export interface ClientFunction {
  description?: string;
  /** JSON Schema of its arguments. */
  parameters?: JsonSchema;
  /** Its result goes back to the model; a throw becomes an error result. `signal` aborts when the call is cancelled. */
  run(args: JsonValue, call: FunctionCallContext): JsonValue | Promise<JsonValue>;
}

export interface FunctionCallContext {
  requestId: string;
  callId: string;
  name: string;
  /** Aborted when the gateway withdraws the call (FUNCTION_CANCEL) or the user interrupts its request. */
  signal: AbortSignal;
}

export interface GatewayClientOptions extends LinkOptions {
  /** Functions the model may call, by name. */
  functions?: Record<string, ClientFunction>;
  /** Plays the replies' audio: stopped on interrupt, its position reported to the gateway. */
  player?: AudioSink;
  /** How long to wait for an answer (REGISTER_ACK, RESUME_ACK, INTERRUPT_ACK, HISTORY…) before failing with AckTimeoutError. Default 5000. */
  ackTimeoutMs?: number;
}

export interface RequestOptions {
  /** Default: a fresh random id. */
  requestId?: string;
  /** Overrides the client's `speak`. */
  speak?: boolean;
  /** Overrides the client's `durable`. */
  durable?: boolean;
}

export interface InterruptOptions {
  /** Default `USER_INTERRUPT`. */
  reason?: string;
  /** What the gateway stops: the request named, the whole session, or everything of this API key. */
  scope?: 'request' | 'session' | 'user';
}

/** What a page keeps (e.g. in sessionStorage) to resume its session after a reload. */
export interface ResumePoint {
  registerAck: RegisterAckPayload;
  /** Frames after this one are replayed. */
  lastSeq: number;
}

export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
