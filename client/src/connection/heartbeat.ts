import { exhaustMap, first, interval, takeUntil, timeout } from 'rxjs';
import type { RegisterAckPayload } from '@agent-gateway/protocol';
import type { LinkOptions } from './link-options.js';
import type { SocketConnection } from './socket-connection.js';

/**
 * Sends HEARTBEATs on a socket for as long as it is open. One unanswered in
 * time means the connection is dead, even if the socket has not noticed: it
 * is abandoned, and counts as dropped.
 */
export function keepAlive(
  socket: SocketConnection,
  session: RegisterAckPayload,
  { intervalMs, timeoutMs }: NonNullable<LinkOptions['heartbeat']> = {
    intervalMs: session.heartbeat.ping_interval_ms,
    timeoutMs: session.heartbeat.pong_timeout_ms,
  },
): void {
  interval(intervalMs)
    .pipe(
      // One HEARTBEAT in flight at a time: ticks while it waits for its answer are skipped.
      exhaustMap(() => {
        const answered = socket.messages$.pipe(
          first((m) => m.kind === 'envelope' && m.envelope.msg_type === 'HEARTBEAT'),
          timeout(timeoutMs),
        );
        socket.send('HEARTBEAT', {}, session.session_id);
        return answered;
      }),
      takeUntil(socket.closed$),
    )
    .subscribe({ error: () => socket.abandon(4000, 'heartbeat timeout') });
}
