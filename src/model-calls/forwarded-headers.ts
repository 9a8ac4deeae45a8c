import type { IncomingHttpHeaders } from 'node:http';

/** Headers that carry a key, name the connection or the body, or change how it is encoded: never sent upstream, whatever the allowlist says. */
const NEVER_UPSTREAM = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
  'set-cookie',
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'accept-encoding',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'connection',
  'keep-alive',
  'proxy-connection',
]);

/** Headers the gateway itself answers with (its request id, CORS, its own framing): never taken from the upstream. */
const NEVER_DOWNSTREAM = new Set([
  'set-cookie',
  'x-request-id',
  'www-authenticate',
  'retry-after',
  'vary',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'trailer',
  'connection',
  'keep-alive',
]);

export type HeaderDirection = 'upstream' | 'downstream';

function allowed(name: string, allowlist: readonly string[], direction: HeaderDirection): boolean {
  if ((direction === 'upstream' ? NEVER_UPSTREAM : NEVER_DOWNSTREAM).has(name)) return false;
  if (direction === 'downstream' && name.startsWith('access-control-')) return false;
  return allowlist.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
}

/**
 * The headers of `headers` that the allowlist (HTTP_FORWARD_REQUEST_HEADERS
 * for `upstream`, …_RESPONSE_… for `downstream`) lets through, one value each.
 */
export function forwardedHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  allowlist: readonly string[],
  direction: HeaderDirection,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !allowed(lower, allowlist, direction)) continue;
    kept[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

/** The upstream's own request id, which the client gets as `x-upstream-request-id` (its `x-request-id` is the gateway's). */
export function upstreamRequestId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const id = headers['x-request-id'] ?? headers['request-id'];
  return typeof id === 'string' ? id : undefined;
}
