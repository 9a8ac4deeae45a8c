import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisBus } from '../redis/redis-bus.js';
import { RedisService } from '../redis/redis.service.js';
import type { BusCommands } from './bus-commands.js';

/** The bus between gateway instances, with the cluster's commands; each waits CLUSTER_COMMAND_TIMEOUT_MS for its reply. */
@Injectable()
export class ClusterBus extends RedisBus<BusCommands> {
  constructor(redis: RedisService, @Inject(APP_CONFIG) config: AppConfig, @InjectPinoLogger(ClusterBus.name) logger: PinoLogger) {
    super(redis, config.cluster.commandTimeoutMs, logger);
  }
}
