import type { ErrorCode } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import { scrubSecrets } from '../common/scrub-secrets.js';

type UpstreamCode = Extract<ErrorCode, `UPSTREAM_${string}`>;

/** Statuses whose upstream error is about the client's own request (or its pace), and safe to show it. */
const CLIENT_FAULT = new Set([400, 404, 409, 413, 422, 429]);
/** How much of the provider's words is kept, once scrubbed (cut after, so no key is cut in half first). */
const MAX_DETAIL_CHARS = 500;
const MAX_FIELD_CHARS = 200;

/**
 * The provider's own error, as OpenAI and Anthropic write it (`error.message`,
 * `type`, `code`, `param`): an app reads `code` (`context_length_exceeded`
 * makes it trim the history), so the HTTP APIs pass it on unchanged.
 */
export interface ProviderErrorFields {
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

/**
 * A failure of the model provider. Its message is the code's own; `detail`
 * is for logs only. `detail` and `provider` hold the provider's words whole
 * until `scrubbed()`, which every provider calls on its way out.
 */
export class UpstreamError extends GatewayError {
  override readonly name = 'UpstreamError';

  constructor(
    code: UpstreamCode,
    readonly detail: string,
    readonly upstreamStatus?: number,
    cause?: unknown,
    /**
     * The provider's error about a request it refused, for the HTTP APIs
     * only: there the client wrote the request and its SDK expects them. A
     * WebSocket client wrote none of it (the gateway built the request) and
     * gets the code's message.
     */
    readonly provider?: ProviderErrorFields,
    /** The upstream's Retry-After, for a 429 or 503: SDKs wait that long before they retry. */
    readonly retryAfter?: string,
  ) {
    super(code, { cause });
  }

  /** The same failure with the provider's words scrubbed of `secrets` and anything key-like (see scrubSecrets). */
  scrubbed(secrets: readonly string[]): UpstreamError {
    const clean = (text: string, max = MAX_DETAIL_CHARS) => scrubSecrets(text, secrets).slice(0, max);
    const cleanField = (text: string | null | undefined) => (typeof text === 'string' ? clean(text, MAX_FIELD_CHARS) : text);
    const provider = this.provider && {
      message: clean(this.provider.message),
      ...(this.provider.type !== undefined && { type: cleanField(this.provider.type) ?? undefined }),
      ...(this.provider.code !== undefined && { code: cleanField(this.provider.code) }),
      ...(this.provider.param !== undefined && { param: cleanField(this.provider.param) }),
    };
    return new UpstreamError(this.code as UpstreamCode, clean(this.detail), this.upstreamStatus, this.cause, provider, this.retryAfter);
  }

  /**
   * From an upstream's error answer. The provider's error is kept for the
   * HTTP client only when it is about the request (a 400, a 429): an
   * authentication error may quote part of the gateway's key, a 5xx internals.
   */
  static fromStatus(status: number, body: string, retryAfter?: string): UpstreamError {
    const parsed = parseJson(body);
    // Written again when it is JSON: a key escaped in it (\u0073k-…) is then plain, for scrubbing to find.
    const detail = `HTTP ${status}: ${parsed === undefined ? body : JSON.stringify(parsed)}`;
    const provider = CLIENT_FAULT.has(status) ? providerFields(parsed) : undefined;
    const code = upstreamCodeOf(status);
    return new UpstreamError(code, detail, status, undefined, provider, RETRY_STATUSES.has(status) ? retryAfter : undefined);
  }

  /**
   * From an error event inside a stream (Anthropic's `event: error`,
   * OpenRouter's `{"error": …}` chunk): the stream has begun, so no status
   * reaches the client, but the provider's type and code (`overloaded_error`)
   * do, for its SDK to decide whether to retry.
   */
  static inStream(error: unknown): UpstreamError {
    const provider = providerFields({ error });
    return new UpstreamError('UPSTREAM_ERROR', `error event in stream: ${JSON.stringify(error)}`, undefined, undefined, provider);
  }
}

/** Statuses whose Retry-After tells a client when to come back (529: Anthropic's "overloaded"). */
const RETRY_STATUSES = new Set([429, 503, 529]);

function upstreamCodeOf(status: number): UpstreamCode {
  if (status === 429) return 'UPSTREAM_RATE_LIMITED';
  if (CLIENT_FAULT.has(status)) return 'UPSTREAM_BAD_REQUEST';
  if (status === 401 || status === 403) return 'UPSTREAM_AUTH_FAILED';
  if (status === 408 || status === 504) return 'UPSTREAM_TIMEOUT';
  return 'UPSTREAM_ERROR';
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** OpenAI's `{error: {message, type, code, param}}`, Anthropic's `{type: "error", error: {type, message}}`, Ollama's `{error: "…"}`. */
function providerFields(body: unknown): ProviderErrorFields | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'string') return { message: error };
  if (typeof error !== 'object' || error === null) return undefined;
  const { message, type, code, param } = error as Record<string, unknown>;
  if (typeof message !== 'string') return undefined;
  return {
    message,
    ...(typeof type === 'string' && { type }),
    ...((typeof code === 'string' || code === null) && { code }),
    ...((typeof param === 'string' || param === null) && { param }),
  };
}
