import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import type { Identity } from '../auth/api-key.service.js';
import { ClusterDirectory } from '../cluster/cluster-directory.service.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { RedisEventLog } from '../cluster/redis-event-log.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Connection, type ConnectionEvents } from './connection.js';
import { Session, type SessionLimits, type SessionPrefs } from './session.js';
import { sessionRecord } from './session-record.js';

/**
 * The open connections and the sessions. A session outlives its sockets: it
 * may have several, or none for a while (SessionLifecycle decides when it
 * ends). With Redis, each session this instance owns is in
 * the shared directory and its frames in the shared log, so that another
 * instance can take it over.
 */
@Injectable()
export class SessionService implements OnModuleInit {
  /** Every open socket, registered or not (until it closes): MAX_CONNECTIONS bounds them. */
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly sessions = new Map<string, Session>();
  private readonly limits: SessionLimits;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cluster: ClusterService,
    private readonly directory: ClusterDirectory,
    private readonly sharedLog: RedisEventLog,
    private readonly metrics: MetricsService,
  ) {
    const { ws, eventLog } = config;
    this.limits = {
      outbound: { highWaterBytes: ws.sendHighWaterBytes, hardLimitBytes: ws.sendHardLimitBytes },
      log: eventLog,
    };
  }

  onModuleInit(): void {
    this.metrics.activeGauge('gateway_active_sessions', 'Sessions on this instance, with or without sockets', () => this.sessions.size);
    this.metrics.activeGauge('gateway_open_connections', 'WebSockets open on this instance, registered or not', () => this.connections.size);
    // Redis may have lost everything while it was away: the sessions owned here are written again.
    if (this.cluster.enabled) {
      this.cluster.reconnected$.subscribe(() => {
        for (const session of this.sessions.values()) if (!session.forwarded) this.publish(session);
      });
    }
  }

  /** A new socket; SERVER_BUSY at the connection limit (sockets that never register count until their register timeout). */
  open(socket: WebSocket, remoteAddress: string, events: ConnectionEvents): Connection {
    if (this.connections.size >= this.config.limits.maxConnections) {
      throw new GatewayError('SERVER_BUSY', { message: 'The gateway is at its connection limit' });
    }
    const connection = new Connection(socket, remoteAddress, this.config, events);
    this.connections.set(socket, connection);
    return connection;
  }

  connectionOf(socket: WebSocket): Connection | undefined {
    return this.connections.get(socket);
  }

  /**
   * A new session, with a first socket or none (a REST task). Throws
   * SERVER_BUSY at the session limit; `onSlow` gets the sockets that fall
   * too far behind.
   */
  create(identity: Identity, prefs: SessionPrefs, onSlow: (connections: Connection[]) => void, connection?: Connection): Session {
    const session = this.add(`sess_${randomUUID()}`, identity, prefs, onSlow, 0);
    if (connection) session.attach(connection);
    return session;
  }

  /**
   * A session taken over from another instance, numbering on after `lastSeq`.
   * One still here because it was forwarded elsewhere (and comes back) is
   * reclaimed rather than made again.
   */
  adopt(sessionId: string, identity: Identity, prefs: SessionPrefs, onSlow: (connections: Connection[]) => void, lastSeq: number): Session {
    const existing = this.sessions.get(sessionId);
    if (existing) {
      existing.reclaim(lastSeq);
      return existing;
    }
    return this.add(sessionId, identity, prefs, onSlow, lastSeq);
  }

  private add(id: string, identity: Identity, prefs: SessionPrefs, onSlow: (connections: Connection[]) => void, lastSeq: number): Session {
    if (this.sessions.size >= this.config.limits.maxSessions) throw new GatewayError('SERVER_BUSY');
    const onLogged = this.cluster.enabled ? (frame: Parameters<RedisEventLog['append']>[1]) => this.sharedLog.append(id, frame) : undefined;
    const session = new Session(id, identity, prefs, this.limits, onSlow, { lastSeq, onLogged });
    this.sessions.set(session.id, session);
    this.publish(session);
    return session;
  }

  private publish(session: Session): void {
    this.directory.putSession(session.id, sessionRecord(session.identity, session.prefs, session.createdAt));
  }

  find(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /**
   * A session of this instance, for the identity that owns it only (another
   * one gets the same answer as a session that does not exist).
   */
  owned(sessionId: string, identity: Identity): Session {
    const session = this.sessions.get(sessionId);
    if (!session || session.forwarded || session.userId !== identity.userId) throw new GatewayError('SESSION_NOT_FOUND');
    return session;
  }

  /** Forgets a closed socket; returns its session and how many sockets it has left. */
  disconnect(socket: WebSocket): { session: Session; remaining: number } | undefined {
    const connection = this.connections.get(socket);
    if (!connection) return undefined;
    connection.dispose();
    this.connections.delete(socket);
    const session = connection.session;
    return session && this.sessions.get(session.id) === session ? { session, remaining: session.detach(connection) } : undefined;
  }

  end(session: Session): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    // Only its owner removes it from the directory (a no-op for a session that moved on).
    this.directory.dropSession(session.id);
    session.close();
  }

  /**
   * Closes every open socket, registered or not, after what was already sent
   * to it; resolves once all have closed, cutting those whose peer has not
   * answered the close within `withinMs`.
   */
  async closeAllConnections(code: number, reason: string, withinMs: number): Promise<void> {
    const sockets = [...this.connections.keys()];
    const closed = sockets.map((socket) => new Promise((resolve) => (socket.readyState === socket.CLOSED ? resolve(undefined) : socket.once('close', resolve))));
    for (const socket of sockets) socket.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
    for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }
}
