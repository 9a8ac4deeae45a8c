import { UpstreamError } from './upstream-error.js';

/**
 * What an upstream sent (a whole answer, one event's data), parsed: a JSON
 * object, or UPSTREAM_BAD_RESPONSE naming `what` came and quoting it (for the
 * logs; scrubbed on its way out like every upstream error).
 */
export function upstreamObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what} is not JSON: ${text}`, undefined, error);
  }
  if (!isObject(value)) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what} is not an object: ${text}`);
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
