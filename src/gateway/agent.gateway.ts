import type { IncomingMessage } from 'node:http';
import { Inject, UseFilters, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { WebSocket } from 'ws';
import { AgentService } from '../agent/agent.service.js';
import { ApiKeyService, type Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError, toGatewayError } from '../errors/gateway-error.js';
import { LlmProvider } from '../llm-stream/llm-provider.js';
import type { Credentials, ParsedClientPayloads } from '@agent-gateway/protocol';
import { PROTOCOL_VERSION } from '@agent-gateway/protocol';
import type { RegisterAckPayload } from '@agent-gateway/protocol';
import { ConversationService } from '../conversation/conversation.service.js';
import { toHistoryMessage } from '../conversation/stored-message.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { SpeechService } from '../tts/speech.service.js';
import { SERVER_VERSION } from '../version.js';
import { closeWithError, type Connection, type ConnectionEvents } from './connection.js';
import { GatewayErrorFilter } from './gateway-error.filter.js';
import { INVALID_EVENT, type InboundMessage, type InvalidMessage } from './inbound-message.js';
import { parsePayload, PayloadPipe } from './payload.pipe.js';
import { RegisteredGuard } from './registered.guard.js';
import type { Session } from './session.js';
import { SessionHandover } from './session-handover.service.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
import { SessionService } from './session.service.js';

/**
 * The WebSocket endpoint (path from WS_PATH, on the HTTP server's port). It
 * only parses, checks and routes: requests run in the AgentService, and every
 * frame leaves through the connection's outbound queue.
 */
@WebSocketGateway()
@UseFilters(GatewayErrorFilter)
export class AgentGateway implements OnGatewayConnection<WebSocket>, OnGatewayDisconnect<WebSocket> {
  constructor(
    private readonly sessions: SessionService,
    private readonly agent: AgentService,
    private readonly auth: ApiKeyService,
    private readonly llm: LlmProvider,
    private readonly speech: SpeechService,
    private readonly toolRegistry: ToolRegistry,
    private readonly conversations: ConversationService,
    private readonly lifecycle: SessionLifecycle,
    private readonly handover: SessionHandover,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(AgentGateway.name) private readonly logger: PinoLogger,
  ) {}

  /** One object for every connection: an idle connection should cost as little as possible. */
  private readonly connectionEvents: ConnectionEvents = { onDead: (connection, why) => this.onDead(connection, why) };

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const remote = request.socket.remoteAddress ?? 'unknown';
    try {
      this.sessions.open(socket, remote, this.connectionEvents);
    } catch (error) {
      const refusal = toGatewayError(error);
      this.logger.warn({ remote, code: refusal.code }, 'connection refused');
      closeWithError(socket, refusal, { closeTimeoutMs: this.config.ws.closeTimeoutMs });
    }
  }

  handleDisconnect(socket: WebSocket): void {
    this.lifecycle.closed(socket, 'CLIENT_DISCONNECTED');
  }

  /**
   * The key is checked first, against a schema of the credential alone: a
   * client without one never gets its payload (tools, their JSON schemas)
   * validated.
   */
  @SubscribeMessage('REGISTER')
  onRegister(@ConnectedSocket() socket: WebSocket, @MessageBody() message: InboundMessage): void {
    const connection = this.connectionOf(socket);
    if (connection.session) throw new GatewayError('ALREADY_REGISTERED');
    const identity = this.authenticate(connection, parsePayload('HANDSHAKE', message.envelope).auth);
    const payload = parsePayload('REGISTER', message.envelope);
    const clientTools = new Map(payload.function_calling.map((tool) => [tool.function.name, tool]));
    const clash = [...clientTools.keys()].find((name) => this.toolRegistry.has(name));
    if (clash) {
      throw new GatewayError('INVALID_MESSAGE', { message: `function_calling: "${clash}" is the name of a server tool` });
    }
    const session = this.lifecycle.create(
      identity,
      {
        platform: payload.platform,
        requireTts: payload.require_tts,
        audioTransport: payload.audio_transport,
        clientTools,
        durable: payload.durable,
      },
      connection,
    );
    connection.sendDirect('REGISTER_ACK', this.registerAck(session));
    this.logger.info(
      { session_id: session.id, user_id: session.userId, platform: payload.platform, remote: connection.remoteAddress },
      'session registered',
    );
  }

  /** Resumes a session of this instance, or moves one here from another (with Redis). */
  @SubscribeMessage('RESUME')
  async onResume(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('RESUME')) payload: ParsedClientPayloads['RESUME'],
  ): Promise<void> {
    const connection = this.connectionOf(socket);
    if (connection.session) throw new GatewayError('ALREADY_REGISTERED');
    const identity = this.authenticate(connection, payload.auth);
    const { session_id: sessionId, last_seq: lastSeq } = payload;
    const local = this.sessions.find(sessionId);
    if (local && !local.forwarded) this.lifecycle.resume(connection, sessionId, lastSeq, identity);
    else await this.handover.resume(connection, sessionId, lastSeq, identity);
  }

  @SubscribeMessage('REQUEST')
  @UseGuards(RegisteredGuard)
  onRequest(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('REQUEST')) payload: ParsedClientPayloads['REQUEST'],
  ): void {
    this.agent.startRequest(this.sessionOf(socket), payload);
  }

  @SubscribeMessage('INTERRUPT')
  @UseGuards(RegisteredGuard)
  onInterrupt(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('INTERRUPT')) payload: ParsedClientPayloads['INTERRUPT'],
    @MessageBody() message: InboundMessage,
  ): void {
    this.agent.interrupt(this.sessionOf(socket), payload, message.receivedAt);
  }

  @SubscribeMessage('PLAYBACK')
  @UseGuards(RegisteredGuard)
  onPlayback(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('PLAYBACK')) payload: ParsedClientPayloads['PLAYBACK'],
  ): void {
    this.agent.playback(this.sessionOf(socket), payload);
  }

  @SubscribeMessage('FUNCTION_RESULT')
  @UseGuards(RegisteredGuard)
  onFunctionResult(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('FUNCTION_RESULT')) payload: ParsedClientPayloads['FUNCTION_RESULT'],
  ): void {
    this.agent.functionResult(this.sessionOf(socket), payload);
  }

  @SubscribeMessage('HISTORY')
  @UseGuards(RegisteredGuard)
  async onHistory(@ConnectedSocket() socket: WebSocket): Promise<void> {
    const session = this.sessionOf(socket);
    const conversation = await this.conversations.read(session.id);
    this.connectionOf(socket).sendDirect('HISTORY', {
      session_id: session.id,
      messages: (conversation?.messages ?? []).map(toHistoryMessage),
    });
  }

  @SubscribeMessage('RESET')
  @UseGuards(RegisteredGuard)
  async onReset(@ConnectedSocket() socket: WebSocket): Promise<void> {
    const cleared = await this.conversations.clear(this.sessionOf(socket).id);
    this.connectionOf(socket).sendDirect('RESET_ACK', { cleared });
  }

  @SubscribeMessage('HEARTBEAT')
  @UseGuards(RegisteredGuard)
  onHeartbeat(@ConnectedSocket() socket: WebSocket): void {
    this.connectionOf(socket).sendDirect('HEARTBEAT', { server_time: Date.now() });
  }

  @SubscribeMessage(INVALID_EVENT)
  onInvalid(@MessageBody() message: InvalidMessage): never {
    throw message.error;
  }

  /**
   * The gateway gives up on a connection. Its session's non-durable requests
   * are cancelled now (if it was the last socket): a client that does not
   * read would otherwise hold them until the close handshake times out.
   */
  private onDead(connection: Connection, why: 'heartbeat' | 'register-timeout' | 'slow-consumer'): void {
    this.logger.warn({ session_id: connection.session?.id, remote: connection.remoteAddress, why }, 'dropping connection');
    if (why === 'heartbeat') connection.socket.terminate();
    else connection.fail(new GatewayError(why === 'register-timeout' ? 'REGISTER_TIMEOUT' : 'SLOW_CONSUMER'));
    this.lifecycle.closed(connection.socket, why === 'heartbeat' ? 'CLIENT_UNRESPONSIVE' : 'CLIENT_TOO_SLOW');
  }

  private authenticate(connection: Connection, auth: Credentials): Identity {
    const identity = this.auth.authenticate(auth?.auth_type === 'API_KEY' ? auth.api_key : undefined);
    if (identity) return identity;
    this.logger.warn({ remote: connection.remoteAddress }, 'authentication failed');
    throw new GatewayError('AUTH_FAILED');
  }

  private connectionOf(socket: WebSocket): Connection {
    const connection = this.sessions.connectionOf(socket);
    if (!connection) throw new GatewayError('INTERNAL_ERROR', { cause: new Error('message on an unknown socket') });
    return connection;
  }

  /** The guard has checked that there is one. */
  private sessionOf(socket: WebSocket): Session {
    const session = this.connectionOf(socket).session;
    if (!session) throw new GatewayError('NOT_REGISTERED');
    return session;
  }

  private registerAck(session: Session): RegisterAckPayload {
    const { ws, limits } = this.config;
    return {
      session_id: session.id,
      protocol_version: PROTOCOL_VERSION,
      server_version: SERVER_VERSION,
      auth_mode: this.auth.openMode ? 'open' : 'api_key',
      llm: this.llm.descriptor,
      tts: this.speech.enabled
        ? {
            enabled: true,
            provider: this.speech.providerName,
            voice: this.speech.voice,
            audio_format: this.speech.format,
            audio_transport: session.prefs.audioTransport,
          }
        : { enabled: false, audio_transport: session.prefs.audioTransport, reason: this.speech.unavailableReason },
      limits: {
        max_payload_bytes: ws.maxPayloadBytes,
        max_concurrent_requests: limits.maxConcurrentRequestsPerSession,
        max_request_text_chars: limits.maxRequestTextChars,
        rate_limit_per_second: limits.rateLimitPerSecond,
        rate_limit_burst: limits.rateLimitBurst,
        interrupt_rate_limit_per_second: limits.interruptRateLimitPerSecond,
        interrupt_rate_limit_burst: limits.interruptRateLimitBurst,
      },
      heartbeat: { ping_interval_ms: ws.pingIntervalMs, pong_timeout_ms: ws.pongTimeoutMs },
      durable: session.prefs.durable,
      resume_grace_ms: this.config.sessions.resumeGraceMs,
    };
  }
}
