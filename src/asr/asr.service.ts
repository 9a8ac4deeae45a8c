import type { OnModuleDestroy } from '@nestjs/common';
import type { AsrProvider } from './asr-provider.js';

/** The recognizer the gateway was configured with, or why it has none (then sessions cannot take audio). */
export class AsrService implements OnModuleDestroy {
  constructor(
    readonly provider: AsrProvider | null,
    readonly reason: string | undefined,
    /** For sessions whose REGISTER names no language. */
    readonly defaultLanguage: string,
  ) {}

  /** A provider with a connection pool of its own closes it. */
  async onModuleDestroy(): Promise<void> {
    await (this.provider as Partial<OnModuleDestroy> | null)?.onModuleDestroy?.();
  }
}
