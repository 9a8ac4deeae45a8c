export interface ErrorDefinition {
  /** The HTTP status for the REST endpoints. */
  status: number;
  /** What the client is told; internal details stay in the logs. */
  message: string;
  /** When set, the WebSocket is closed with this code right after the ERROR. */
  closeCode?: number;
  /** When set, HTTP answers say when to try again (`Retry-After`, in seconds). */
  retryAfterSeconds?: number;
}

/**
 * Every error code the gateway sends. Codes are stable API: add new ones,
 * never rename.
 */
export const ERROR_CODES = {
  INVALID_JSON: { status: 400, message: 'Message is not valid JSON' },
  JSON_TOO_DEEP: { status: 400, message: 'The JSON is nested too deeply' },
  JSON_TOO_LARGE: { status: 400, message: 'The JSON has too many values' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The body is too large' },
  INVALID_MESSAGE: { status: 400, message: 'Message does not match the protocol' },
  UNSUPPORTED_VERSION: { status: 400, message: 'Unsupported protocol version' },
  UNKNOWN_MSG_TYPE: { status: 400, message: 'Unknown msg_type' },
  BINARY_NOT_SUPPORTED: { status: 400, message: 'The only binary frames accepted from clients are input audio (kind 0x02)' },
  NOT_REGISTERED: { status: 401, message: 'Send REGISTER first' },
  ALREADY_REGISTERED: { status: 409, message: 'This connection is already registered' },
  AUTH_FAILED: { status: 401, message: 'Authentication failed', closeCode: 1008 },
  SESSION_MISMATCH: { status: 400, message: 'session_id does not match this connection' },
  DUPLICATE_REQUEST: { status: 409, message: 'A request with this request_id is already active' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many concurrent requests in this session' },
  RATE_LIMITED: { status: 429, message: 'Too many messages, slow down' },
  CONCURRENCY_LIMITED: { status: 429, message: 'Too many requests are running at once for this API key' },
  UNSUPPORTED_DATA_TYPE: { status: 400, message: 'Unsupported data_type' },
  UNKNOWN_REQUEST: { status: 404, message: 'No such request in this session' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session' },
  LAST_SEQ_AHEAD: { status: 409, message: 'last_seq is ahead of the last frame of the session; REGISTER a new session' },
  REQUEST_NOT_FOUND: { status: 404, message: 'No such active request' },
  TASK_NOT_FOUND: { status: 404, message: 'No such task' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such endpoint' },
  MODEL_NOT_FOUND: { status: 404, message: 'No such model on this gateway (GET /v1/models lists them)' },
  MODEL_NOT_SUPPORTED: { status: 400, message: 'This model does not do what the endpoint asks (embeddings of a chat-only upstream)' },
  REQUEST_CANCELLED: {
    status: 503,
    message: 'The request was stopped before it finished (a stop of the request, its user or the gateway)',
  },
  REGISTER_TIMEOUT: { status: 408, message: 'No REGISTER in time', closeCode: 1008 },
  SERVER_BUSY: { status: 503, message: 'The gateway is at its session limit', closeCode: 1013 },
  SESSION_LIMITED: { status: 429, message: 'This API key has as many sessions as it may have at once', closeCode: 1013 },
  NOT_READY: { status: 503, message: 'The gateway is draining for a shutdown; send traffic elsewhere', retryAfterSeconds: 1 },
  SLOW_CONSUMER: { status: 503, message: 'The client reads too slowly; the session is closed', closeCode: 1008 },
  UPSTREAM_ERROR: { status: 502, message: 'The model provider failed' },
  UPSTREAM_BAD_REQUEST: { status: 400, message: 'The model provider rejected the request' },
  UPSTREAM_AUTH_FAILED: { status: 502, message: 'The gateway could not authenticate with the model provider' },
  UPSTREAM_RATE_LIMITED: { status: 429, message: 'The model provider is rate limiting' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The model provider did not answer in time' },
  UPSTREAM_UNREACHABLE: { status: 502, message: 'The model provider could not be reached' },
  UPSTREAM_DISCONNECTED: { status: 502, message: 'The model provider closed the stream early' },
  UPSTREAM_BAD_RESPONSE: { status: 502, message: 'The model provider sent a malformed stream' },
  INSTANCE_LOST: { status: 502, message: 'The gateway instance running this request stopped; the reply is incomplete' },
  TTS_ERROR: { status: 502, message: 'Speech synthesis failed; the reply continues as text' },
  AUDIO_INPUT_DISABLED: {
    status: 400,
    message: 'This session takes no audio: REGISTER with audio_input (and the gateway needs speech recognition)',
  },
  AUDIO_OUT_OF_ORDER: { status: 409, message: 'Audio chunk out of order: stream_seq must follow the last one accepted' },
  INVALID_AUDIO: { status: 400, message: 'The audio is not whole 16-bit samples in the announced format' },
  AUDIO_TOO_LONG: { status: 413, message: 'The utterance is longer than the gateway accepts' },
  NO_SPEECH: { status: 422, message: 'No words were recognized in the audio' },
  ASR_ERROR: { status: 502, message: 'Speech recognition failed' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;
