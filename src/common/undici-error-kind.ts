export type UndiciErrorKind = 'timeout' | 'disconnected' | 'unreachable' | 'other';

/**
 * What went wrong with an undici request, from its error `code`. Duck-typed:
 * undici's errors may come from another realm under test runners, where
 * `instanceof Error` is false.
 */
export function undiciErrorKind(error: unknown): UndiciErrorKind {
  switch ((error as { code?: unknown } | undefined)?.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'disconnected';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return 'other';
  }
}

/** `code: message` of an error of unknown shape, for logs. */
export function describeError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return `${String(code)}: ${String(message)}`;
}
