import type { Credentials, ParsedClientPayloads, ToolDefinition } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ApiKeyService, type Identity } from '../auth/api-key.service.js';
import { SessionHandover } from '../cluster/session-handover.service.js';
import { GatewayError } from '../common/gateway-error.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { Connection } from './connection.js';
import type { InboundMessage } from './inbound-message.js';
import { parsePayload } from './payload-parser.js';
import { RegisterAcks } from './register-acks.js';

/** Most sessions have no client functions: they share this empty map rather than each keeping one. */
const NO_TOOLS: ReadonlyMap<string, ToolDefinition> = new Map();

/** REGISTER and RESUME: a connection gets its session, new, resumed here, or moved here from another instance. */
@Injectable()
export class SessionHandshake {
  constructor(
    private readonly auth: ApiKeyService,
    private readonly lifecycle: SessionLifecycle,
    private readonly sessions: SessionRegistry,
    private readonly handover: SessionHandover,
    private readonly tools: ToolRegistry,
    private readonly acks: RegisterAcks,
    @InjectPinoLogger(SessionHandshake.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * The key is checked first, against a schema of the credential alone: a
   * client without one never gets its payload (tools, their JSON schemas)
   * validated.
   */
  register(connection: Connection, message: InboundMessage): void {
    if (connection.session) throw new GatewayError('ALREADY_REGISTERED');
    const identity = this.authenticate(connection, parsePayload('HANDSHAKE', message.envelope).auth);
    const payload = parsePayload('REGISTER', message.envelope);
    const clientTools =
      payload.function_calling.length > 0 ? new Map(payload.function_calling.map((tool) => [tool.function.name, tool])) : NO_TOOLS;
    const clash = [...clientTools.keys()].find((name) => this.tools.has(name));
    if (clash) throw new GatewayError('INVALID_MESSAGE', { message: `function_calling: "${clash}" is the name of a server tool` });
    const prefs = {
      platform: payload.platform,
      requireTts: payload.require_tts,
      audioTransport: payload.audio_transport,
      clientTools,
      durable: payload.durable,
      ...(payload.audio_input && { audioInput: payload.audio_input }),
    };
    const session = this.lifecycle.create(identity, prefs, connection);
    connection.sendDirect('REGISTER_ACK', this.acks.of(session));
    this.logger.info(
      { session_id: session.id, user_id: session.userId, platform: payload.platform, remote: connection.remoteAddress },
      'session registered',
    );
  }

  /** Resumes a session of this instance, or moves one here from another (with Redis). */
  async resume(connection: Connection, payload: ParsedClientPayloads['RESUME']): Promise<void> {
    if (connection.session) throw new GatewayError('ALREADY_REGISTERED');
    const identity = this.authenticate(connection, payload.auth);
    const { session_id: sessionId, last_seq: lastSeq } = payload;
    const local = this.sessions.find(sessionId);
    if (!local || local.forwarded) {
      await this.handover.resume(connection, sessionId, lastSeq, identity);
      return;
    }
    const { session, replay } = this.lifecycle.resumable(sessionId, identity, lastSeq);
    this.lifecycle.attachResumed(connection, session, replay);
  }

  private authenticate(connection: Connection, auth: Credentials): Identity {
    const identity = this.auth.authenticate(auth?.auth_type === 'API_KEY' ? auth.api_key : undefined);
    if (identity) return identity;
    this.logger.warn({ remote: connection.remoteAddress }, 'authentication failed');
    throw new GatewayError('AUTH_FAILED');
  }
}
