import { Global, Module } from '@nestjs/common';
import { ClusterDirectory } from './cluster-directory.service.js';
import { ClusterService } from './cluster.service.js';
import { RedisEventLog } from './redis-event-log.js';

/** Several gateway instances as one, over Redis (REDIS_URL); without it, a single process. */
@Global()
@Module({
  providers: [ClusterService, ClusterDirectory, RedisEventLog],
  exports: [ClusterService, ClusterDirectory, RedisEventLog],
})
export class ClusterModule {}
