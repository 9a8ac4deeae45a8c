import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { RedisService } from '../redis/redis.service.js';
import type { Session } from '../session/session.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { RequestRecord } from './directory-records.js';
import { sessionRecord } from './session-record.js';

/**
 * Keeps the shared directory in step with what this instance owns: its
 * sessions and the requests of sessions (a socket's or a task's; a chat
 * completion over HTTP dies with its connection and nobody else needs it),
 * as they come and go, and all of them again when Redis comes back after an
 * outage (it may have lost everything).
 */
@Injectable()
export class DirectoryMirror implements OnModuleInit {
  constructor(
    private readonly redis: RedisService,
    private readonly directory: ClusterDirectory,
    private readonly requests: RequestRegistry,
    private readonly sessions: SessionRegistry,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.requests.registered$.subscribe((request) => {
      const record = recordOf(request);
      if (record) this.directory.putRequest(record);
    });
    this.requests.released$.subscribe((request) => {
      if (recordOf(request)) this.directory.dropRequest(request.owner.sessionId, request.id);
    });
    this.sessions.added$.subscribe((session) => this.publish(session));
    // Only its owner removes it (a no-op for a session that moved on).
    this.sessions.removed$.subscribe((session) => this.directory.dropSession(session.id));
    this.redis.reconnected$.subscribe(() => {
      for (const session of this.sessions.all()) if (!session.forwarded) this.publish(session);
      this.directory.replaceRequests(this.requests.list().flatMap((request) => recordOf(request) ?? []));
    });
  }

  private publish(session: Session): void {
    this.directory.putSession(session.id, sessionRecord(session.identity, session.prefs, session.createdAt));
  }
}

/** What other instances know of a request: a session's (a socket's or a task's). */
function recordOf(request: ActiveRequest): RequestRecord | undefined {
  const { transport, sessionId, userId } = request.owner;
  if (transport === 'http') return undefined;
  return {
    session_id: sessionId,
    request_id: request.id,
    user_id: userId,
    durable: request.durable,
    transport,
    started_at: request.startedAtMs,
  };
}
