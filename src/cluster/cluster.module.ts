import { Global, Module } from '@nestjs/common';
import { RequestsModule } from '../requests/requests.module.js';
import { SessionLogMirror } from '../session/session-log-mirror.js';
import { SessionModule } from '../session/session.module.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import { DirectoryMirror } from './directory-mirror.service.js';
import { InstanceReaper } from './instance-reaper.service.js';
import { LostRequests } from './lost-requests.service.js';
import { RedisEventLog } from './redis-event-log.js';
import { RemoteCommands } from './remote-commands.service.js';
import { RemoteStops } from './remote-stops.service.js';
import { SessionHandover } from './session-handover.service.js';
import { SessionMove } from './session-move.js';
import { SessionRelease } from './session-release.service.js';

/**
 * Several gateway instances as one, over Redis (REDIS_URL); without it, a
 * single process and every part of this module idle. Global: the session
 * layer copies its frames into the shared log (SessionLogMirror) without
 * importing what is above it.
 */
@Global()
@Module({
  imports: [SessionModule, RequestsModule],
  providers: [
    ClusterBus,
    ClusterDirectory,
    RedisEventLog,
    { provide: SessionLogMirror, useExisting: RedisEventLog },
    DirectoryMirror,
    SessionMove,
    SessionHandover,
    SessionRelease,
    RemoteCommands,
    RemoteStops,
    InstanceReaper,
    LostRequests,
  ],
  exports: [ClusterDirectory, RedisEventLog, SessionLogMirror, SessionHandover, RemoteStops],
})
export class ClusterModule {}
