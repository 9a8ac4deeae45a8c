import { Module } from '@nestjs/common';
import { KeyConcurrency } from './key-concurrency.js';

/** Limits the HTTP endpoints share: one KeyConcurrency for completions and tasks alike. */
@Module({ providers: [KeyConcurrency], exports: [KeyConcurrency] })
export class HttpLimitsModule {}
