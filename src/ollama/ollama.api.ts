import { ollamaErrorBody } from '../http/api-error-body.js';
import type { WireApi } from '../model-calls/wire-api.js';

/**
 * Ollama's chat: newline-delimited JSON, no closing marker (the last object
 * says `done: true`); errors as `{"error": "…"}`, mid-stream as one more
 * line of that shape, which Ollama's clients raise.
 */
export const OLLAMA_CHAT: WireApi = {
  name: 'ollama-chat',
  streamContentType: 'application/x-ndjson',
  errorBody: (error, _status, message) => ollamaErrorBody(error, message),
  streamError: (error, _status, message) => `${JSON.stringify(ollamaErrorBody(error, message))}\n`,
};

export const OLLAMA_GENERATE: WireApi = { ...OLLAMA_CHAT, name: 'ollama-generate' };

/** `/api/embed`: never streamed. */
export const OLLAMA_EMBED: WireApi = { ...OLLAMA_CHAT, name: 'ollama-embed' };
