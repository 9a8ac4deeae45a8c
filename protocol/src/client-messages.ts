import { z } from 'zod';
import type { JsonValue } from './chat.js';

/**
 * What clients may send. The schemas validate on the server; their input
 * types are what the client SDK and the tests build messages from.
 */

/** Safe in logs, metrics labels and storage keys. */
export const RequestId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -');

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parts of a payload that are any JSON (a tool's arguments schema, a
 * function's result). Everything a client sends comes out of JSON.parse,
 * already depth-limited: it is JSON by construction, so it is typed here,
 * not walked again (a recursive validator costs milliseconds on a wide
 * value and overflows the stack on a deep one).
 */
const anyJson = z.custom<JsonValue>(() => true);
const jsonObject = z.custom<Record<string, JsonValue>>(isObject, 'must be a JSON object');
/** A payload of messages that carry nothing the server reads: an object, whatever is in it. */
const anyObject = z.custom<Record<string, unknown>>(isObject, 'must be an object');

export const EnvelopeSchema = z.object({
  version: z.string().max(16),
  msg_type: z.string().min(1).max(64),
  session_id: z.string().max(128).nullish(),
  payload: anyObject.default({}),
  timestamp: z.number().optional(),
});

/** A function the client runs for the model, declared in OpenAI's tool schema. */
export const ClientToolDefinition = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -'),
    description: z.string().max(2048).optional(),
    parameters: jsonObject.optional(),
  }),
});

/**
 * Checked by the auth service, so that a missing or wrong credential is
 * answered with AUTH_FAILED rather than a schema error.
 */
const CredentialsSchema = z
  .object({ auth_type: z.string().max(32), api_key: z.string().max(512) })
  .partial()
  .nullish();
export type Credentials = z.output<typeof CredentialsSchema>;

/**
 * What the server reads of a REGISTER before the key is checked: the
 * credential alone, the rest untouched, so a client without a key costs no
 * validation of its tools' schemas.
 */
export const HandshakePayload = z.looseObject({ auth: CredentialsSchema });

/** What the client's microphone sends: raw 16-bit mono PCM, at any rate from 8 to 48 kHz (the gateway resamples to 16 kHz). */
export const AudioInputFormat = z.object({
  codec: z.literal('pcm_s16le'),
  sample_rate: z.number().int().min(8000).max(48_000),
  channels: z.literal(1),
});

/**
 * Voice input for the session. `server_vad`: the client streams its
 * microphone (AUDIO messages or binary frames of kind 0x02) and the gateway
 * finds the user's turns and barge-ins; `manual`: push-to-talk, each turn
 * one REQUEST with `data_type: "AUDIO"`, START … END.
 */
export const AudioInputConfig = z.object({
  audio_format: AudioInputFormat,
  turn_detection: z.enum(['server_vad', 'manual']).default('server_vad'),
  /** The user's language (`en`, `zh`…), for recognition and for the backchannel words; default from the gateway's ASR_LANGUAGE. */
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/)
    .optional(),
});

export const RegisterPayload = z.object({
  auth: CredentialsSchema,
  platform: z.string().max(64).default('unknown'),
  require_tts: z.boolean().default(false),
  /** Accepted for compatibility with the predecessor's clients, and ignored: speech input is `audio_input`. */
  enable_srs: z.boolean().optional(),
  /** Functions this client runs: the model may call them, the gateway asks with FUNCTION_CALL. */
  function_calling: z
    .array(ClientToolDefinition)
    .max(128)
    .default([])
    .refine((tools) => new Set(tools.map((t) => t.function.name)).size === tools.length, 'function names must be unique'),
  /** How audio frames reach this client: base64 inside RESPONSE envelopes, or binary WebSocket frames. */
  audio_transport: z.enum(['json', 'binary']).default('json'),
  /** The default for REQUESTs: keep running when the socket closes, until it is resumed or the grace period ends. */
  durable: z.boolean().default(false),
  /** Speech in: absent, the session takes text only. */
  audio_input: AudioInputConfig.optional(),
});

/** Instead of REGISTER, on a new socket: re-attach a session and get every frame after `last_seq`. */
export const ResumePayload = z.object({
  session_id: z.string().min(1).max(128),
  last_seq: z.number().int().min(0),
  auth: CredentialsSchema,
});

const requestOptions = {
  request_id: RequestId,
  require_tts: z.boolean().optional(),
  /** Overrides the session's default (REGISTER durable). */
  durable: z.boolean().optional(),
};

export const TextRequestPayload = z.object({
  ...requestOptions,
  data_type: z.literal('TEXT'),
  stream_flag: z.enum(['START', 'CONTINUE', 'END']).optional(),
  stream_seq: z.number().int().min(0).optional(),
  content: z.object({ text: z.string().min(1) }),
});

/** Base64 of raw PCM in the session's input format; at most what one frame may carry. */
const base64Audio = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/**
 * Push-to-talk: one user turn as chunks of audio, START, CONTINUE…, END, in
 * order of `stream_seq` (0, 1, 2…). The reply is that request's, as for text.
 */
export const AudioRequestPayload = z.object({
  ...requestOptions,
  data_type: z.literal('AUDIO'),
  stream_flag: z.enum(['START', 'CONTINUE', 'END']),
  stream_seq: z.number().int().min(0),
  content: z.object({
    audio: base64Audio.default(''),
    /** On START only: overrides REGISTER audio_input.audio_format for this turn. */
    audio_format: AudioInputFormat.optional(),
  }),
});

export const RequestPayload = z.discriminatedUnion('data_type', [TextRequestPayload, AudioRequestPayload]);

/** Hands-free: a piece of the microphone's stream (JSON alternative to binary frames of kind 0x02). */
export const AudioChunkPayload = z.object({ content: z.object({ audio: base64Audio }) });

/** How far the client has played a request's audio: every frame before `voice_stream_seq`, and `played_ms` into that one. */
export const PlayedPosition = z.object({
  voice_stream_seq: z.number().int().min(0),
  played_ms: z.number().min(0).max(3_600_000),
});

export const PlaybackPayload = PlayedPosition.extend({ request_id: RequestId });

export const InterruptPayload = z.object({
  /** Absent or null: every active request of the session. */
  interrupt_request_id: RequestId.nullish(),
  /** Where playback of `interrupt_request_id`'s audio stopped, so the gateway knows what the user heard. */
  played_until: PlayedPosition.optional(),
  /**
   * What to stop: `request` (the one named), `session` (all of this session's),
   * or `user` (everything of this API key, in every session and task).
   * Default: `request` with an id, `session` without.
   */
  scope: z.enum(['request', 'session', 'user']).optional(),
  reason: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .default('USER_INTERRUPT'),
});

export const HeartbeatPayload = anyObject;

/** Asks for the session's conversation history. */
export const HistoryRequestPayload = anyObject;

/** Clears the session's conversation history. */
export const ResetPayload = anyObject;

/** The answer to a FUNCTION_CALL: `result` (any JSON) or `error`. */
export const FunctionResultPayload = z.object({
  request_id: RequestId,
  call_id: z.string().min(1).max(128),
  result: anyJson.optional(),
  error: z.string().max(4000).optional(),
});

export const CLIENT_PAYLOAD_SCHEMAS = {
  REGISTER: RegisterPayload,
  RESUME: ResumePayload,
  REQUEST: RequestPayload,
  AUDIO: AudioChunkPayload,
  INTERRUPT: InterruptPayload,
  PLAYBACK: PlaybackPayload,
  HEARTBEAT: HeartbeatPayload,
  HISTORY: HistoryRequestPayload,
  RESET: ResetPayload,
  FUNCTION_RESULT: FunctionResultPayload,
} as const;

export type ClientMsgType = keyof typeof CLIENT_PAYLOAD_SCHEMAS;

/** What a client sends (defaults may be omitted). */
export type ClientPayloads = { [K in ClientMsgType]: z.input<(typeof CLIENT_PAYLOAD_SCHEMAS)[K]> };
/** What the server works with after validation (defaults filled in). */
export type ParsedClientPayloads = { [K in ClientMsgType]: z.output<(typeof CLIENT_PAYLOAD_SCHEMAS)[K]> };

export function isClientMsgType(value: string): value is ClientMsgType {
  return Object.hasOwn(CLIENT_PAYLOAD_SCHEMAS, value);
}
