import { ERROR_CODES } from '@agent-gateway/protocol';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { ConnectionRegistry } from '../gateway/connection-registry.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { cancellation, StopService } from '../stops/stop.service.js';

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
 * finish, cancel the rest, close the WebSockets with 1001. Then main.ts
 * stops listening and closes every HTTP connection left, idle, half-sent or
 * streaming (a long poll, an SSE stream): nothing can hold the exit up.
 */
@Injectable()
export class ShutdownService implements OnModuleDestroy {
  private drainingSince?: number;

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly connections: ConnectionRegistry,
    private readonly registry: RequestRegistry,
    private readonly stops: StopService,
    private readonly conversations: ConversationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(ShutdownService.name) private readonly logger: PinoLogger,
  ) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** An app closed without drain() still stops its requests as cancelled, not as failed upstream calls. */
  onModuleDestroy(): void {
    this.stops.everything(cancellation('SERVER_SHUTDOWN', 'shutdown'));
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
    const cancelled = this.stops.everything(cancellation('SERVER_SHUTDOWN', 'shutdown'), (request) => !request.durable);
    const durable = this.registry.size;
    this.logger.warn({ signal, cancelled: cancelled.length, durable, deadline_ms: deadlineMs }, 'shutting down');
    await this.registry.drained(deadlineMs);
    const late = this.stops.everything(cancellation('SERVER_SHUTDOWN', 'shutdown'));
    this.logger.warn(
      { finished: durable - late.length, cancelled_at_deadline: late.length, took_ms: Math.round(performance.now() - this.drainingSince) },
      'requests drained',
    );
    // Let the last frames (end frames of what was just cancelled, sent once their turns are stored) leave before the sockets close.
    await this.conversations.settled();
    await new Promise((resolve) => setImmediate(resolve));
    await this.connections.closeAll(1001, 'SERVER_SHUTDOWN', CLOSE_HANDSHAKE_MS);
  }
}
