import type { ErrorCode } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import { scrubSecrets } from '../common/scrub-secrets.js';

type UpstreamCode = Extract<ErrorCode, `UPSTREAM_${string}`>;

/** Statuses whose upstream message is about the client's own request, and safe to show it. */
const CLIENT_FAULT = new Set([400, 404, 413, 422]);
/** How much of the provider's words is kept, once scrubbed (cut after, so no key is cut in half first). */
const MAX_DETAIL_CHARS = 500;

/**
 * A failure of the model provider. Its message is the code's own; `detail`
 * is for logs only. Both `detail` and `clientMessage` hold the provider's
 * words whole until `scrubbed()`, which every provider calls on its way out.
 */
export class UpstreamError extends GatewayError {
  override readonly name = 'UpstreamError';

  constructor(
    code: UpstreamCode,
    readonly detail: string,
    readonly upstreamStatus?: number,
    cause?: unknown,
    /**
     * The provider's own words about a request it refused, for the
     * OpenAI-compatible endpoint only: there the client wrote the request
     * and OpenAI's clients expect them. A WebSocket client wrote none of it
     * (the gateway built the request) and gets the code's message.
     */
    readonly clientMessage?: string,
  ) {
    super(code, { cause });
  }

  /** The same failure with the provider's words scrubbed of `secrets` and anything key-like (see scrubSecrets). */
  scrubbed(secrets: readonly string[]): UpstreamError {
    const clean = (text: string) => scrubSecrets(text, secrets).slice(0, MAX_DETAIL_CHARS);
    const clientMessage = this.clientMessage === undefined ? undefined : clean(this.clientMessage);
    return new UpstreamError(this.code as UpstreamCode, clean(this.detail), this.upstreamStatus, this.cause, clientMessage);
  }

  /**
   * From an upstream's error answer. The provider's message is kept for the
   * HTTP client only when it is about the request (a 400): an authentication
   * error may quote part of the gateway's key, a 5xx internals.
   */
  static fromStatus(status: number, body: string): UpstreamError {
    const parsed = parseJson(body);
    // Written again when it is JSON: a key escaped in it (\u0073k-…) is then plain, for scrubbing to find.
    const detail = `HTTP ${status}: ${parsed === undefined ? body : JSON.stringify(parsed)}`;
    if (CLIENT_FAULT.has(status)) {
      const upstreamMessage = messageOf(parsed);
      return new UpstreamError(
        'UPSTREAM_BAD_REQUEST',
        detail,
        status,
        undefined,
        upstreamMessage && `The model provider rejected the request: ${upstreamMessage}`,
      );
    }
    if (status === 401 || status === 403) return new UpstreamError('UPSTREAM_AUTH_FAILED', detail, status);
    if (status === 408 || status === 504) return new UpstreamError('UPSTREAM_TIMEOUT', detail, status);
    if (status === 429) return new UpstreamError('UPSTREAM_RATE_LIMITED', detail, status);
    return new UpstreamError('UPSTREAM_ERROR', detail, status);
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function messageOf(body: unknown): string | undefined {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' ? message : undefined;
}
