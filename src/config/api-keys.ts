import { ConfigError } from './config-error.js';
import { splitList } from './env.schema.js';

export interface NamedKey {
  /** Shown in usage records and metrics instead of the key. */
  name?: string;
  key: string;
}

const NAMED_KEY = /^([A-Za-z0-9_.-]{1,64}):(.+)$/;

/** `name:key` or a bare key (a key that holds a colon must then be named). */
export function parseKeys(raw: string): NamedKey[] {
  return splitList(raw).map((entry) => {
    const named = NAMED_KEY.exec(entry);
    return named ? { name: named[1], key: named[2] } : { key: entry };
  });
}

/** A name stands for one key, and never looks like an unnamed key's identity (`key_` and 12 hex digits). */
export function checkKeyNames(keys: readonly NamedKey[]): void {
  const names = keys.flatMap((key) => (key.name ? [key.name] : []));
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new ConfigError(`GATEWAY_API_KEYS / GATEWAY_ADMIN_KEYS: the name "${twice}" is given to two keys`);
  const lookalike = names.find((name) => /^key_[0-9a-f]{12}$/.test(name));
  if (lookalike) throw new ConfigError(`GATEWAY_API_KEYS: "${lookalike}" looks like an unnamed key's identity; choose another name`);
}

/** Header names, lower case; a trailing `*` matches any name that starts so. */
export function parseHeaderList(raw: string): string[] {
  return splitList(raw).map((name) => name.toLowerCase());
}
