import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

export interface Identity {
  /** Stable and safe to log: derived from the key's hash, never the key. */
  userId: string;
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
  private readonly digests: Buffer[];
  private readonly adminDigests: Buffer[];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.adminDigests = config.auth.adminKeys.map(digest);
    // Operator keys are gateway keys too.
    this.digests = [...config.auth.apiKeys.map(digest), ...this.adminDigests];
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

  /** Returns the caller's identity, or undefined when the key is wrong. */
  authenticate(apiKey: string | undefined): Identity | undefined {
    const candidate = apiKey ? digest(apiKey) : undefined;
    // Open development mode: anyone, and anyone may operate.
    if (this.openMode) return { userId: candidate ? identityOf(candidate) : 'anonymous', admin: true };
    if (!candidate) return undefined;
    if (!matchesAny(this.digests, candidate)) return undefined;
    return { userId: identityOf(candidate), admin: matchesAny(this.adminDigests, candidate) };
  }
}

/** Compares with every known digest, matched or not, so the position of a match does not show in the timing. */
function matchesAny(known: Buffer[], candidate: Buffer): boolean {
  let matched = false;
  for (const digestOfKey of known) matched = timingSafeEqual(digestOfKey, candidate) || matched;
  return matched;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function identityOf(keyDigest: Buffer): string {
  return `key_${keyDigest.subarray(0, 6).toString('hex')}`;
}
