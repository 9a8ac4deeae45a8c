import type { z } from 'zod';
import { GatewayError } from '../common/gateway-error.js';
import { CLIENT_PAYLOAD_SCHEMAS, HandshakePayload, type ParsedClientPayloads } from '@agent-gateway/protocol';
import type { InboundMessage } from './inbound-message.js';
import { zodIssues } from '../common/zod-issues.js';

type Schemas = typeof CLIENT_PAYLOAD_SCHEMAS & { HANDSHAKE: typeof HandshakePayload };
const SCHEMAS: Schemas = { ...CLIENT_PAYLOAD_SCHEMAS, HANDSHAKE: HandshakePayload };
type Parsed = ParsedClientPayloads & { HANDSHAKE: z.output<typeof HandshakePayload> };

/** A message's payload, validated against its msg_type's schema (or HANDSHAKE's: REGISTER's credential alone). */
export function parsePayload<T extends keyof Schemas>(type: T, envelope: InboundMessage['envelope']): Parsed[T] {
  const result = SCHEMAS[type].safeParse(envelope.payload);
  if (result.success) return result.data as Parsed[T];
  const { request_id: requestId, data_type: dataType } = envelope.payload;
  const knownRequestId = typeof requestId === 'string' ? requestId : undefined;
  if (type === 'REQUEST' && typeof dataType === 'string' && dataType !== 'TEXT' && dataType !== 'AUDIO') {
    throw new GatewayError('UNSUPPORTED_DATA_TYPE', {
      requestId: knownRequestId,
      message: `data_type "${dataType.slice(0, 32)}" is not supported; send "TEXT" or "AUDIO"`,
    });
  }
  throw new GatewayError('INVALID_MESSAGE', {
    requestId: knownRequestId,
    message: `Invalid ${type === 'HANDSHAKE' ? 'REGISTER' : type} payload`,
    issues: zodIssues(result.error, 'payload'),
  });
}
