import type { LoggedFrame } from './event-log.js';

/**
 * Where a session's numbered frames are copied as they are logged, so that
 * other instances can replay them (cluster/redis-event-log, with REDIS_URL).
 * Provided by the cluster; this layer only knows the shape.
 */
export abstract class SessionLogMirror {
  abstract readonly enabled: boolean;
  abstract append(sessionId: string, frame: LoggedFrame): void;
}
