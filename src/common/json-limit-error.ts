import { GatewayError } from './gateway-error.js';
import type { JsonLimits } from './json-limits.js';

/** The error for JSON over one of the limits, over WebSocket and HTTP alike. */
export function jsonLimitError(limit: 'depth' | 'nodes', limits: JsonLimits, what: 'message' | 'body'): GatewayError {
  return limit === 'depth'
    ? new GatewayError('JSON_TOO_DEEP', { message: `The ${what} nests deeper than ${limits.maxDepth} levels` })
    : new GatewayError('JSON_TOO_LARGE', { message: `The ${what} has more than ${limits.maxNodes} values and keys` });
}
