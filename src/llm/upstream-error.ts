import type { ErrorCode } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import { scrubSecrets } from '../common/scrub-secrets.js';

type UpstreamCode = Extract<ErrorCode, `UPSTREAM_${string}`>;

/** Statuses whose upstream message is about the client's own request, and safe to show it. */
const CLIENT_FAULT = new Set([400, 404, 413, 422]);

/**
 * A failure of the model provider. Its message is the code's own; `detail`
 * is for logs only.
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
    const clientMessage = this.clientMessage === undefined ? undefined : scrubSecrets(this.clientMessage, secrets);
    return new UpstreamError(this.code as UpstreamCode, scrubSecrets(this.detail, secrets), this.upstreamStatus, this.cause, clientMessage);
  }

  /**
   * From an upstream's error answer. The provider's message is kept for the
   * HTTP client only when it is about the request (a 400): an authentication
   * error may quote part of the gateway's key, a 5xx internals.
   */
  static fromStatus(status: number, body: string): UpstreamError {
    const detail = `HTTP ${status}: ${body.slice(0, 500)}`;
    if (CLIENT_FAULT.has(status)) {
      const upstreamMessage = messageOf(body);
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

function messageOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    const message = parsed.error?.message;
    return typeof message === 'string' ? message.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
