import type { Server } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { SessionService } from '../gateway/session.service.js';
import { ERROR_CODES } from '@agent-gateway/protocol';
import { RequestRegistry } from '../request-registry/request-registry.service.js';

/** How long clients are told to wait before they reconnect (elsewhere, behind a load balancer). */
const RETRY_AFTER_MS = ERROR_CODES.NOT_READY.retryAfterSeconds * 1000;
/** After the deadline, how long the WebSockets' close handshakes may take before they are cut. */
const CLOSE_HANDSHAKE_MS = 1_000;

/**
 * A graceful stop, before the app closes (main.ts calls `drain()` on SIGTERM;
 * the modules' own teardown comes after): answer /ready with 503 and refuse
 * new sockets and requests (NOT_READY) while still listening, tell every
 * session (SERVER_SHUTDOWN, logged, so a RESUME elsewhere sees it too),
 * cancel what is not durable, give durable requests until the deadline to
 * finish, cancel the rest, close the WebSockets with 1001, then stop
 * listening and close every HTTP connection left, idle, half-sent or
 * streaming (a long poll, an SSE stream): nothing can hold the exit up.
 */
@Injectable()
export class ShutdownService implements OnModuleDestroy {
  private readonly logger = new Logger(ShutdownService.name);
  private drainingSince?: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: SessionService,
    private readonly registry: RequestRegistry,
    private readonly conversations: ConversationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** An app closed without drain() still stops its requests as cancelled, not as failed upstream calls. */
  onModuleDestroy(): void {
    for (const request of this.registry.list()) {
      request.cancel({ reason: 'SERVER_SHUTDOWN', source: 'shutdown', receivedAt: performance.now() });
    }
  }

  async drain(signal?: string): Promise<void> {
    if (this.draining) return;
    this.drainingSince = performance.now();
    const { deadlineMs } = this.config.shutdown;
    this.registry.refuseNew();
    const reason = signal ?? 'SHUTDOWN';
    // A session that moved to another instance is not going away.
    for (const session of this.sessions.all().filter((session) => !session.forwarded)) {
      session.send('SERVER_SHUTDOWN', { reason, retry_after_ms: RETRY_AFTER_MS, deadline: Date.now() + deadlineMs }, { lane: 'control' });
    }
    const now = () => ({ reason: 'SERVER_SHUTDOWN', source: 'shutdown' as const, receivedAt: performance.now() });
    const cancelled = this.registry.list().filter((request) => !request.durable && request.cancel(now()));
    const durable = this.registry.size;
    this.logger.warn({ msg: 'shutting down', signal, cancelled: cancelled.length, durable, deadline_ms: deadlineMs });
    await this.registry.drained(deadlineMs);
    const late = this.registry.list().filter((request) => request.cancel(now()));
    this.logger.warn({
      msg: 'requests drained',
      finished: durable - late.length,
      cancelled_at_deadline: late.length,
      took_ms: Math.round(performance.now() - this.drainingSince),
    });
    // Let the last frames (end frames of what was just cancelled, sent once their turns are stored) leave before the sockets close.
    await this.conversations.settled();
    await new Promise((resolve) => setImmediate(resolve));
    await this.sessions.closeAllConnections(1001, 'SERVER_SHUTDOWN', CLOSE_HANDSHAKE_MS);
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    server?.close();
    server?.closeAllConnections();
  }
}
