import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { NamedKey } from '../config/api-keys.js';
import type { AppConfig } from '../config/config.schema.js';

export interface Identity {
  /** Stable and safe to log: derived from the key's hash, never the key. */
  userId: string;
  /** The key's name (`GATEWAY_API_KEYS=name:key`); usage records and metrics carry it, or the userId of an unnamed key. */
  keyName?: string;
  /** An operator key (GATEWAY_ADMIN_KEYS): sees and cancels everyone's requests. */
  admin: boolean;
}

/**
 * Checks gateway API keys. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key, so neither the length nor
 * the position of a match shows in the timing.
 */
@Injectable()
export class ApiKeyService implements OnModuleInit {
  private readonly logger = new Logger(ApiKeyService.name);
  private readonly keys: KnownKey[];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Operator keys are gateway keys too.
    this.keys = [...config.auth.apiKeys.map((key) => known(key, false)), ...config.auth.adminKeys.map((key) => known(key, true))];
  }

  get openMode(): boolean {
    return this.config.auth.openMode;
  }

  onModuleInit(): void {
    if (this.openMode) {
      this.logger.warn(
        '*** OPEN DEVELOPMENT MODE: GATEWAY_API_KEYS and GATEWAY_ADMIN_KEYS are empty, so ANY client is accepted. ' +
          'Set GATEWAY_API_KEYS before exposing this gateway (it refuses to start this way with NODE_ENV=production). ***',
      );
    }
  }

  /** A browser's request from a page of another origin than the gateway's, and not one HTTP_CORS_ORIGINS names. */
  foreignOrigin(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return false;
    if (this.config.httpApi.corsOrigins.includes(origin)) return false;
    try {
      return new URL(origin).host !== host;
    } catch {
      return true;
    }
  }

  /** Returns the caller's identity, or undefined when the key is wrong. */
  authenticate(apiKey: string | undefined): Identity | undefined {
    const candidate = apiKey ? digest(apiKey) : undefined;
    // Open development mode: anyone, and anyone may operate.
    if (this.openMode) {
      return { userId: candidate ? identityOf(candidate) : 'anonymous', admin: true };
    }
    if (!candidate) return undefined;
    const matched = matchAll(this.keys, candidate);
    if (!matched) return undefined;
    return { userId: identityOf(candidate), admin: matched.admin, ...(matched.name && { keyName: matched.name }) };
  }
}

interface KnownKey {
  digest: Buffer;
  name?: string;
  admin: boolean;
}

function known({ key, name }: NamedKey, admin: boolean): KnownKey {
  return { digest: digest(key), admin, ...(name && { name }) };
}

/**
 * Compares with every known digest, matched or not, so the position of a
 * match does not show in the timing. A key listed as both kinds is an
 * operator's; its name is the first one given.
 */
function matchAll(keys: readonly KnownKey[], candidate: Buffer): { name?: string; admin: boolean } | undefined {
  let name: string | undefined;
  let matched = false;
  let admin = false;
  for (const key of keys) {
    const equal = timingSafeEqual(key.digest, candidate);
    if (equal && !matched) name = key.name;
    matched = equal || matched;
    admin = (equal && key.admin) || admin;
  }
  return matched ? { ...(name && { name }), admin } : undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function identityOf(keyDigest: Buffer): string {
  return `key_${keyDigest.subarray(0, 6).toString('hex')}`;
}
