import type { ErrorCode, ErrorPayload } from '@agent-gateway/protocol';

/** The gateway did not answer in time: the message may be lost, or the connection stalled. */
export class AckTimeoutError extends Error {
  override readonly name = 'AckTimeoutError';

  constructor(
    /** The answer that did not come (`INTERRUPT_ACK`, `REGISTER_ACK`, …). */
    readonly awaited: string,
    readonly timeoutMs: number,
  ) {
    super(`No ${awaited} from the gateway within ${timeoutMs} ms`);
  }
}

/** The gateway answered with an ERROR (a refused request, a failed handshake). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: ErrorCode;

  constructor(readonly payload: ErrorPayload) {
    super(`${payload.code}: ${payload.message}`);
    this.code = payload.code;
  }
}

/**
 * The gateway no longer knows the session (it outlived RESUME_GRACE_MS, or
 * the gateway restarted): the replies that were running are lost. The client
 * has registered a new session.
 */
export class SessionLostError extends Error {
  override readonly name = 'SessionLostError';

  constructor(readonly sessionId: string) {
    super(`The gateway no longer knows session ${sessionId}; its running replies are lost`);
  }
}

/** The client was closed, or gave up on the connection, while this was pending. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';

  constructor(message = 'The client is closed') {
    super(message);
  }
}

/** The socket closed before the gateway answered the handshake. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/**
 * After a reconnect, the gateway had neither this request running nor its end
 * frame in its log: the REQUEST was lost with the old connection, or the log
 * no longer reached back to the reply's end.
 */
export class ReplyLostError extends Error {
  override readonly name = 'ReplyLostError';

  constructor(readonly requestId: string) {
    super(`The gateway has no record of how request ${requestId} ended; it was lost with the connection`);
  }
}

/** startMicrophone() in a session that takes no hands-free voice: why, as REGISTER_ACK tells it or the client knows it. */
export class VoiceInputUnavailableError extends Error {
  override readonly name = 'VoiceInputUnavailableError';

  constructor(readonly reason: string) {
    super(`Voice input is not available: ${reason}`);
  }
}
