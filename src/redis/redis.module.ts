import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service.js';

/** The connection to the Redis that instances share (REDIS_URL); without it, disabled. */
@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
