import { openAiErrorBody } from '../http/openai-error.js';
import type { WireApi } from '../model-calls/wire-api.js';
import type { Sequence } from './response-assembly.js';
import { responseFrame } from './response-frames.js';

/**
 * OpenAI's Responses API: named server-sent events, no `[DONE]`; errors
 * before the stream as chat completions write them, and within it as an
 * `error` event numbered after the events before it (one WireApi per
 * response, for its sequence).
 */
export function responsesApi(sequence: Sequence): WireApi {
  return {
    name: 'openai-responses',
    streamContentType: 'text/event-stream; charset=utf-8',
    errorBody: (error, status, message, provider) => openAiErrorBody(error, status, message, provider),
    streamError: (error, _status, message, provider) =>
      responseFrame({
        type: 'error',
        code: provider && provider.code !== undefined ? provider.code : error.code,
        message,
        param: provider?.param ?? null,
        sequence_number: sequence.next(),
      }),
  };
}
