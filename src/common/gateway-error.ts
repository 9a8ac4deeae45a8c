import { ERROR_CODES, type ErrorCode, type ErrorDefinition, type ErrorPayload } from '@agent-gateway/protocol';

export interface GatewayErrorOptions {
  /** Client-facing text; defaults to the code's message in the table. */
  message?: string;
  requestId?: string;
  issues?: ErrorPayload['issues'];
  /** Logged, never sent. */
  cause?: unknown;
}

/** An error the client is told about, by its stable code. */
export class GatewayError extends Error {
  override readonly name: string = 'GatewayError';
  readonly requestId?: string;
  readonly issues?: ErrorPayload['issues'];

  constructor(
    readonly code: ErrorCode,
    options: GatewayErrorOptions = {},
  ) {
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.requestId = options.requestId;
    this.issues = options.issues;
  }

  private get definition(): ErrorDefinition {
    return ERROR_CODES[this.code];
  }

  get status(): number {
    return this.definition.status;
  }

  get retryAfterSeconds(): number | undefined {
    return this.definition.retryAfterSeconds;
  }

  /** Errors that end the connection say with which close code. */
  get closeCode(): number | undefined {
    return this.definition.closeCode;
  }

  toPayload(requestId = this.requestId): ErrorPayload {
    return {
      code: this.code,
      message: this.message,
      ...(requestId !== undefined && { request_id: requestId }),
      ...(this.issues && { issues: this.issues }),
    };
  }
}

/** Anything else becomes INTERNAL_ERROR: internal messages never reach clients. */
export function toGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new GatewayError('INTERNAL_ERROR', { cause: error });
}
