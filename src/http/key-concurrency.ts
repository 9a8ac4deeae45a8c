import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';

/**
 * What an API key runs at once over HTTP — chat completions in flight and
 * tasks running, together — bounded by HTTP_MAX_CONCURRENT_PER_KEY.
 */
@Injectable()
export class KeyConcurrency {
  private readonly running = new Map<string, number>();
  private readonly limit: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.httpApi.maxConcurrentPerKey;
  }

  /** Takes one of the key's slots, or throws CONCURRENCY_LIMITED; the function returned gives it back (once). */
  acquire(userId: string): () => void {
    const count = this.running.get(userId) ?? 0;
    if (count >= this.limit) {
      throw new GatewayError('CONCURRENCY_LIMITED', { message: `At most ${this.limit} requests may run at once for one API key` });
    }
    this.running.set(userId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(userId) ?? 1) - 1;
      if (left === 0) this.running.delete(userId);
      else this.running.set(userId, left);
    };
  }
}
