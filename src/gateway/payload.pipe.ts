import { type PipeTransform } from '@nestjs/common';
import { GatewayError } from '../errors/gateway-error.js';
import { CLIENT_PAYLOAD_SCHEMAS, type ClientMsgType, type ParsedClientPayloads } from '../protocol/client-messages.js';
import type { InboundMessage } from './inbound-message.js';
import { zodIssues } from './zod-issues.js';

/** Validates a message's payload against its msg_type's schema. */
export class PayloadPipe<T extends ClientMsgType> implements PipeTransform<InboundMessage, ParsedClientPayloads[T]> {
  constructor(private readonly type: T) {}

  transform({ envelope }: InboundMessage): ParsedClientPayloads[T] {
    const result = CLIENT_PAYLOAD_SCHEMAS[this.type].safeParse(envelope.payload);
    if (result.success) return result.data as ParsedClientPayloads[T];
    const { request_id: requestId, data_type: dataType } = envelope.payload;
    const knownRequestId = typeof requestId === 'string' ? requestId : undefined;
    if (this.type === 'REQUEST' && typeof dataType === 'string' && dataType !== 'TEXT') {
      throw new GatewayError('UNSUPPORTED_DATA_TYPE', {
        requestId: knownRequestId,
        message: `data_type "${dataType.slice(0, 32)}" is not supported; send "TEXT"`,
      });
    }
    throw new GatewayError('INVALID_MESSAGE', {
      requestId: knownRequestId,
      message: `Invalid ${this.type} payload`,
      issues: zodIssues(result.error, 'payload'),
    });
  }
}
