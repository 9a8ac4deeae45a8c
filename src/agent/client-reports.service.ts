import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RemoteStops } from '../cluster/remote-stops.service.js';
import { GatewayError } from '../common/gateway-error.js';
import type { Session } from '../session/session.js';

/**
 * What a client reports about its requests' replies, for wherever they run:
 * how far it has played their audio (PLAYBACK), and the results of the
 * functions they called (FUNCTION_RESULT).
 */
@Injectable()
export class ClientReports {
  constructor(
    private readonly remote: RemoteStops,
    @InjectPinoLogger(ClientReports.name) private readonly logger: PinoLogger,
  ) {}

  /** PLAYBACK: during or after the request's generation. */
  playback(session: Session, payload: ParsedClientPayloads['PLAYBACK']): void {
    const ledger = session.speech.get(payload.request_id);
    if (ledger) return ledger.reportPlayed(payload);
    const remote = session.remote.findRecent(payload.request_id);
    if (!remote) throw new GatewayError('UNKNOWN_REQUEST', { requestId: payload.request_id });
    this.remote.playback(remote.instanceId, session.id, payload);
  }

  /** FUNCTION_RESULT: the answer to a FUNCTION_CALL. One for a call that was cancelled is dropped. */
  functionResult(session: Session, payload: ParsedClientPayloads['FUNCTION_RESULT']): void {
    const remote = session.remote.find(payload.request_id);
    if (remote) return this.remote.functionResult(remote.instanceId, session.id, payload);
    if (!session.functionResult(payload)) {
      this.logger.info(
        { session_id: session.id, request_id: payload.request_id, call_id: payload.call_id },
        'FUNCTION_RESULT ignored: the call is not pending (cancelled, answered or unknown)',
      );
    }
  }
}
