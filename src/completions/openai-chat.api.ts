import { openAiErrorBody } from '../http/openai-error.js';
import type { WireApi } from '../model-calls/wire-api.js';
import { sseFrame } from '../model-calls/sse-frame.js';

/** OpenAI's chat completions: server-sent `chat.completion.chunk`s ending in `[DONE]`; errors as `{"error": {…}}`. */
export const OPENAI_CHAT: WireApi = {
  name: 'openai-chat',
  streamContentType: 'text/event-stream; charset=utf-8',
  streamEnd: 'data: [DONE]\n\n',
  errorBody: (error, status, message, provider) => openAiErrorBody(error, status, message, provider),
  streamError: (error, status, message, provider) => sseFrame(JSON.stringify(openAiErrorBody(error, status, message, provider))),
};

/** `/v1/embeddings`: never streamed, errors as chat completions write them. */
export const OPENAI_EMBEDDINGS: WireApi = { ...OPENAI_CHAT, name: 'openai-embeddings' };
