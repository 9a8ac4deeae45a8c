const REDACTED = '[redacted]';

/**
 * Credentials as providers and the proxies in front of them echo them in
 * error text: an Authorization header's value, `sk-…` keys (OpenAI,
 * Anthropic, DashScope), and the value after a key-like name.
 */
const CREDENTIAL_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{12,}/g, REDACTED],
  [
    /\b((?:x-)?api[_-]?key|authorization|access[_-]?token|secret|password)(["']?\s*[:=]\s*["']?)(?!Bearer\b|Basic\b|\[redacted\])[^\s"',;&}]{6,}/gi,
    `$1$2${REDACTED}`,
  ],
];

/**
 * Provider text (error bodies, error events) with the given secrets (the
 * provider's own key) and anything that looks like a credential replaced,
 * before a client or the log sees it.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    scrubbed = scrubbed.replaceAll(secret, REDACTED);
    // A text cut short (a body read up to a limit) may end with the first part of one.
    for (let length = secret.length - 1; length >= 4; length--) {
      if (scrubbed.endsWith(secret.slice(0, length))) {
        scrubbed = scrubbed.slice(0, -length) + REDACTED;
        break;
      }
    }
  }
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}
