import type { JsonSchema, JsonValue, RegisterAckPayload } from '@agent-gateway/protocol';
import type { AudioSink } from './audio/audio-sink.js';
import type { AudioSource, CaptureFormat } from './audio/audio-source.js';
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
  /** Plays the replies' audio: stopped on interrupt, paused while the user speaks over it, its position reported to the gateway. */
  player?: AudioSink;
  /** What startMicrophone() listens to (with `audioInput`). Default: a Microphone, the browser's getUserMedia. */
  microphone?: AudioSource;
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

/** A push-to-talk turn (beginUtterance). */
export interface UtteranceOptions extends RequestOptions {
  /** Interrupt the replies still running first (USER_NEW_INPUT), as ask() does: the user pressed talk over them. Default true. */
  bargeIn?: boolean;
  /** This turn's audio format, when it is not the session's (REGISTER `audio_input`). */
  format?: CaptureFormat;
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
