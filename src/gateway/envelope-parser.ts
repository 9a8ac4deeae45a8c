import { GatewayError } from '../common/gateway-error.js';
import {
  type ClientMsgType,
  decodeInputAudioFrame,
  EnvelopeSchema,
  INPUT_AUDIO_FRAME_KIND,
  isClientMsgType,
  PROTOCOL_VERSION,
} from '@agent-gateway/protocol';
import { jsonLimitError } from '../common/json-limit-error.js';
import { type JsonLimits, overJsonLimits } from '../common/json-limits.js';
import { INVALID_EVENT, type InboundMessage, type InvalidMessage } from './inbound-message.js';
import { zodIssues } from '../common/zod-issues.js';

export type ParsedFrame = { event: ClientMsgType; data: InboundMessage } | { event: typeof INVALID_EVENT; data: InvalidMessage };

/**
 * A frame's event is its msg_type. Every frame gets one, so nothing is
 * dropped silently: a frame that is not a valid envelope of a known type is
 * INVALID_EVENT, which is answered with an ERROR frame.
 */
export function parseEnvelope(data: unknown, limits: JsonLimits, receivedAt = performance.now()): ParsedFrame {
  const invalid = (error: GatewayError): ParsedFrame => ({ event: INVALID_EVENT, data: { error, receivedAt } });

  if (data instanceof Uint8Array) return parseBinary(data, receivedAt) ?? invalid(new GatewayError('BINARY_NOT_SUPPORTED'));
  if (typeof data !== 'string') return invalid(new GatewayError('BINARY_NOT_SUPPORTED'));
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return invalid(new GatewayError('INVALID_JSON'));
  }
  const over = overJsonLimits(json, limits);
  if (over) return invalid(jsonLimitError(over, limits, 'message'));
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    return invalid(new GatewayError('INVALID_MESSAGE', { message: 'Not a valid envelope', issues: zodIssues(parsed.error) }));
  }
  const envelope = parsed.data;
  if (envelope.version !== PROTOCOL_VERSION) {
    return invalid(
      new GatewayError('UNSUPPORTED_VERSION', { message: `Unsupported version "${envelope.version}"; use "${PROTOCOL_VERSION}"` }),
    );
  }
  if (!isClientMsgType(envelope.msg_type)) {
    return invalid(new GatewayError('UNKNOWN_MSG_TYPE', { message: `Unknown msg_type "${envelope.msg_type}"` }));
  }
  return {
    event: envelope.msg_type,
    data: {
      envelope: {
        version: PROTOCOL_VERSION,
        msg_type: envelope.msg_type,
        ...(envelope.session_id != null && { session_id: envelope.session_id }),
        payload: envelope.payload,
        timestamp: envelope.timestamp ?? Date.now(),
      },
      receivedAt,
    },
  };
}

/** The one binary frame a client may send: microphone audio (kind 0x02), routed as an AUDIO message. */
function parseBinary(data: Uint8Array, receivedAt: number): ParsedFrame | undefined {
  if (data[0] !== INPUT_AUDIO_FRAME_KIND) return undefined;
  let inputAudio;
  try {
    inputAudio = decodeInputAudioFrame(data);
  } catch {
    return undefined;
  }
  const envelope = { version: PROTOCOL_VERSION, msg_type: 'AUDIO', payload: {}, timestamp: Date.now() } as const;
  return { event: 'AUDIO', data: { envelope, receivedAt, inputAudio } };
}
