import { anthropicErrorBody } from '../http/api-error-body.js';
import type { WireApi } from '../model-calls/wire-api.js';
import { sseFrame } from '../model-calls/sse-frame.js';

/**
 * Anthropic's Messages API: named server-sent events ending in
 * message_stop (nothing after it); errors as `{"type": "error", "error":
 * {type, message}}`, the provider's own type kept, and mid-stream as an
 * `error` event, which Anthropic's SDKs throw.
 */
export const ANTHROPIC_MESSAGES: WireApi = {
  name: 'anthropic-messages',
  streamContentType: 'text/event-stream; charset=utf-8',
  errorBody: (error, status, message, provider) => anthropicErrorBody(error, status, message, provider?.type),
  streamError: (error, status, message, provider) =>
    sseFrame(JSON.stringify(anthropicErrorBody(error, status, message, provider?.type)), 'error'),
};
