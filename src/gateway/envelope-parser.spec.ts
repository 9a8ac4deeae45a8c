import { GatewayError } from '../common/gateway-error.js';
import { parseEnvelope } from './envelope-parser.js';
import { INVALID_EVENT, type InboundMessage, type InvalidMessage } from './inbound-message.js';

const codeOf = (data: unknown) => {
  const parsed = parseEnvelope(data, { maxDepth: 64, maxNodes: 100_000 });
  expect(parsed.event).toBe(INVALID_EVENT);
  const { error } = parsed.data as InvalidMessage;
  expect(error).toBeInstanceOf(GatewayError);
  return error.code;
};

describe('parseEnvelope', () => {
  it('routes a valid envelope by msg_type and stamps its arrival', () => {
    const before = performance.now();
    const parsed = parseEnvelope(
      JSON.stringify({ version: '1.0', msg_type: 'INTERRUPT', session_id: 's1', payload: { reason: 'X' }, timestamp: 5 }),
      { maxDepth: 64, maxNodes: 100_000 },
    );
    expect(parsed.event).toBe('INTERRUPT');
    expect(parsed.data).toMatchObject({
      envelope: { version: '1.0', msg_type: 'INTERRUPT', session_id: 's1', payload: { reason: 'X' }, timestamp: 5 },
    });
    expect((parsed.data as { receivedAt: number }).receivedAt).toBeGreaterThanOrEqual(before);
  });

  it('fills in a missing payload, timestamp and null session_id', () => {
    const parsed = parseEnvelope(JSON.stringify({ version: '1.0', msg_type: 'HEARTBEAT', session_id: null }), {
      maxDepth: 64,
      maxNodes: 100_000,
    });
    expect(parsed.event).toBe('HEARTBEAT');
    const { envelope } = parsed.data as InboundMessage;
    expect(envelope.payload).toEqual({});
    expect(typeof envelope.timestamp).toBe('number');
    expect(envelope).not.toHaveProperty('session_id');
  });

  it('routes everything else to the invalid handler with a precise code', () => {
    expect(codeOf(Buffer.from('{}'))).toBe('BINARY_NOT_SUPPORTED');
    expect(codeOf('nope')).toBe('INVALID_JSON');
    expect(codeOf('null')).toBe('INVALID_MESSAGE');
    expect(codeOf(JSON.stringify({ version: '1.0', msg_type: 'HEARTBEAT', payload: [] }))).toBe('INVALID_MESSAGE');
    expect(codeOf(JSON.stringify({ version: '0.9', msg_type: 'HEARTBEAT' }))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(`{"version":"1.0","msg_type":"HEARTBEAT","payload":{"a":${'['.repeat(64)}${']'.repeat(64)}}}`)).toBe('JSON_TOO_DEEP');
    expect(codeOf(JSON.stringify({ version: '1.0', msg_type: 'toString' }))).toBe('UNKNOWN_MSG_TYPE');
    expect(codeOf(JSON.stringify({ version: '1.0', msg_type: 'REGISTER_ACK' }))).toBe('UNKNOWN_MSG_TYPE');
  });
});
