import type { IncomingHttpHeaders } from 'node:http';

/** Headers that name the connection or the body, or carry a key: never passed on, whatever an allowlist says. */
const NEVER = new Set([
  'authorization',
  'x-api-key',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'host',
  'cookie',
  'set-cookie',
]);

function allowed(name: string, allowlist: readonly string[]): boolean {
  if (NEVER.has(name)) return false;
  return allowlist.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
}

/** The headers of `headers` that the allowlist (HTTP_FORWARD_REQUEST_HEADERS or …_RESPONSE_…) lets through, one value each. */
export function forwardedHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  allowlist: readonly string[],
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !allowed(lower, allowlist)) continue;
    kept[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

/** The upstream's own request id, which the client gets as `x-upstream-request-id` (its `x-request-id` is the gateway's). */
export function upstreamRequestId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const id = headers['x-request-id'] ?? headers['request-id'];
  return typeof id === 'string' ? id : undefined;
}
