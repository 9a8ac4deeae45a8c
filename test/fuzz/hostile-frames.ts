import fc from 'fast-check';
import { decodeInputAudioFrame, isClientMsgType, type ErrorCode } from '@agent-gateway/protocol';

/** A frame the gateway must refuse, and the one ERROR code it must answer it with. */
export interface HostileFrame {
  what: string;
  data: string | Uint8Array;
  code: ErrorCode;
}

/** Random bytes can make a well-formed input-audio frame (kind 0x02), which is audio, not an unsupported binary frame. */
function isInputAudio(bytes: Uint8Array): boolean {
  try {
    decodeInputAudioFrame(bytes);
    return true;
  } catch {
    return false;
  }
}

/** JSON nested `depth` levels, written out (JSON.stringify would overflow on it). */
const nestedJson = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const envelope = (msgType: string, payload: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: '1.0', msg_type: msgType, payload, ...extra });

/** Fields of no meaning to the gateway, shallow enough to pass the depth limit. */
const junk = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
/** Not a request id: empty, too long, or with characters outside [A-Za-z0-9_.:-], or not a string. */
const badRequestId = fc.oneof(fc.constantFrom('', 'has space', 'x'.repeat(129), 'naïve', 'a/b'), fc.integer(), fc.constant(null));

const frame = (what: string, code: ErrorCode, data: fc.Arbitrary<string | Uint8Array>): fc.Arbitrary<HostileFrame> =>
  data.map((d) => ({ what, code, data: d }));

/**
 * Frames for a registered connection, each refused with a known code:
 * malformed text, other JSON, bad envelopes, nesting past the limit, binary
 * frames, and messages of every kind with invalid payloads.
 */
export function hostileFrames(options: { sessionId: string; maxDepth: number }): fc.Arbitrary<HostileFrame> {
  const { maxDepth } = options;
  return fc.oneof(
    frame(
      'not JSON',
      'INVALID_JSON',
      fc.string({ maxLength: 200 }).filter((text) => !parses(text)),
    ),
    frame(
      'JSON that is not an envelope',
      'INVALID_MESSAGE',
      fc
        .jsonValue({ maxDepth: 4 })
        .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
        .map((v) => JSON.stringify(v)),
    ),
    frame(
      'an envelope without msg_type',
      'INVALID_MESSAGE',
      junk.map((j) => JSON.stringify({ ...j, version: '1.0', msg_type: undefined })),
    ),
    frame(
      'a payload that is not an object',
      'INVALID_MESSAGE',
      fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer())).map((p) => envelope('HEARTBEAT', p)),
    ),
    frame(
      'another version',
      'UNSUPPORTED_VERSION',
      fc
        .string({ maxLength: 16 })
        .filter((v) => v !== '1.0')
        .map((v) => JSON.stringify({ version: v, msg_type: 'HEARTBEAT', payload: {} })),
    ),
    frame(
      'an unknown msg_type',
      'UNKNOWN_MSG_TYPE',
      fc
        .string({ minLength: 1, maxLength: 64 })
        .filter((t) => !isClientMsgType(t))
        .map((t) => envelope(t, {})),
    ),
    frame(
      'nesting past the limit',
      'JSON_TOO_DEEP',
      fc
        .tuple(fc.integer({ min: maxDepth, max: 20_000 }), fc.constantFrom('HEARTBEAT', 'REQUEST', 'FUNCTION_RESULT', 'REGISTER'))
        .map(([depth, type]) => `{"version":"1.0","msg_type":"${type}","payload":{"result":${nestedJson(depth, '0')}}}`),
    ),
    frame(
      'a binary frame',
      'BINARY_NOT_SUPPORTED',
      fc.uint8Array({ minLength: 1, maxLength: 512 }).filter((bytes) => !isInputAudio(bytes)),
    ),
    frame(
      'a REGISTER on a registered connection',
      'ALREADY_REGISTERED',
      junk.map((j) => envelope('REGISTER', j)),
    ),
    frame(
      'a valid RESUME on a registered connection',
      'ALREADY_REGISTERED',
      fc.nat().map((seq) => envelope('RESUME', { session_id: 'sess_x', last_seq: seq })),
    ),
    frame(
      'a HEARTBEAT naming another session',
      'SESSION_MISMATCH',
      fc
        .string({ minLength: 1, maxLength: 64 })
        .filter((id) => id !== options.sessionId)
        .map((id) => envelope('HEARTBEAT', {}, { session_id: id })),
    ),
    frame(
      'a REQUEST with a bad request_id',
      'INVALID_MESSAGE',
      fc
        .tuple(badRequestId, junk)
        .map(([id, j]) => envelope('REQUEST', { ...j, request_id: id, data_type: 'TEXT', content: { text: 'x' } })),
    ),
    frame(
      'an INTERRUPT with a bad reason',
      'INVALID_MESSAGE',
      fc.constantFrom('', 'has space', 'x'.repeat(65)).map((reason) => envelope('INTERRUPT', { reason })),
    ),
    frame(
      'a PLAYBACK played before it started',
      'INVALID_MESSAGE',
      fc.integer({ min: -1e9, max: -1 }).map((ms) => envelope('PLAYBACK', { request_id: 'r', voice_stream_seq: 0, played_ms: ms })),
    ),
    frame(
      'a FUNCTION_RESULT without call_id',
      'INVALID_MESSAGE',
      fc.jsonValue({ maxDepth: 5 }).map((result) => envelope('FUNCTION_RESULT', { request_id: 'r', result })),
    ),
  );
}

/**
 * The first message of a connection that has not registered: anything but a
 * valid REGISTER or RESUME with a key. Each gets one ERROR and the close.
 */
export function unregisteredFrames(options: { maxDepth: number }): fc.Arbitrary<HostileFrame> {
  return fc.oneof(
    frame(
      'a message before REGISTER',
      'NOT_REGISTERED',
      fc.constantFrom('HEARTBEAT', 'REQUEST', 'INTERRUPT', 'HISTORY', 'RESET').map((t) => envelope(t, {})),
    ),
    frame(
      'a REGISTER without a key, with tools of any shape',
      'AUTH_FAILED',
      fc
        .array(
          fc.record({
            type: fc.constant('function'),
            function: fc.record({ name: fc.string(), parameters: fc.jsonValue({ maxDepth: 6 }) }),
          }),
          { maxLength: 5 },
        )
        .map((tools) => envelope('REGISTER', { platform: 'fuzz', function_calling: tools })),
    ),
    frame(
      'a REGISTER nested past the limit',
      'JSON_TOO_DEEP',
      fc
        .integer({ min: options.maxDepth, max: 20_000 })
        .map((depth) => `{"version":"1.0","msg_type":"REGISTER","payload":{"function_calling":${nestedJson(depth, '')}}}`),
    ),
    frame(
      'not JSON',
      'INVALID_JSON',
      fc.string({ maxLength: 100 }).filter((text) => !parses(text)),
    ),
  );
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
