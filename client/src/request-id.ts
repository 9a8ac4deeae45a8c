/**
 * A request id unique among a session's requests, also across page reloads
 * that resume the session. Random from getRandomValues, which (unlike
 * crypto.randomUUID) browsers offer on plain-http pages too.
 */
export function newRequestId(): string {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return `req_${Date.now().toString(36)}_${high.toString(36)}${low.toString(36)}`;
}
