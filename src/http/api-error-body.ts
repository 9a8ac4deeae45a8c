import type { GatewayError } from '../common/gateway-error.js';
import { openAiErrorBody } from './openai-error.js';

/** Anthropic's error `type` for a status, as its SDKs classify them. */
function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/**
 * `{"type": "error", "error": {type, message}}`, as Anthropic writes its
 * errors (the gateway's code beside them). Anthropic's has no list of
 * issues: the first few go into the message.
 */
export function anthropicErrorBody(error: GatewayError, status = error.status, message = error.message, providerType?: string): object {
  const issues = error.issues?.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`);
  const text = issues?.length ? `${message}: ${issues.join('; ')}` : message;
  return { type: 'error', error: { type: providerType ?? anthropicErrorType(status), message: text, code: error.code } };
}

/** `{"error": "…"}`, as Ollama writes its errors. */
export function ollamaErrorBody(error: GatewayError, message = error.message): object {
  return { error: message, code: error.code };
}

/**
 * An error in the format of the API its path belongs to, for errors raised
 * before a model call began (a bad key, a bad body, an unknown route):
 * Anthropic's under `/v1/messages`, Ollama's under `/api/`, OpenAI's elsewhere.
 */
export function errorBodyFor(path: string, error: GatewayError, status = error.status, message = error.message): object {
  if (/^\/(v1\/)?messages(\/|$)/.test(path)) return anthropicErrorBody(error, status, message);
  if (path.startsWith('/api/')) return ollamaErrorBody(error, message);
  return openAiErrorBody(error, status, message);
}
