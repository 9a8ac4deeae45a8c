import type { GatewayError } from '../common/gateway-error.js';

/** OpenAI's error `type` for a status, so SDK clients classify our errors as they do OpenAI's. */
function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** A provider's own error fields, passed on as it wrote them (`context_length_exceeded` stays that). */
export interface UpstreamErrorFields {
  type?: string;
  code?: string | null;
  param?: string | null;
}

/** `{"error": {message, type, code, param}}`, as OpenAI writes its errors; a provider's own fields win over the gateway's. */
export function openAiErrorBody(
  error: GatewayError,
  status = error.status,
  message = error.message,
  provider?: UpstreamErrorFields,
): object {
  return {
    error: {
      message,
      type: provider?.type ?? openAiErrorType(status),
      code: provider && provider.code !== undefined ? provider.code : error.code,
      param: provider?.param ?? null,
      ...(error.issues && { issues: error.issues }),
    },
  };
}
