import type { IncomingMessage } from 'node:http';
import type { ParsedClientPayloads } from '@agent-gateway/protocol';
import { UseFilters, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { ClientReports } from '../agent/client-reports.service.js';
import { InterruptService } from '../agent/interrupts.service.js';
import { RequestRunner } from '../agent/request-runner.service.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { VoiceService } from '../voice/voice.service.js';
import { toHistoryMessage } from '../conversation/stored-message.js';
import { GatewayErrorFilter } from './gateway-error.filter.js';
import { INVALID_EVENT, type InboundMessage, type InvalidMessage } from './inbound-message.js';
import { parsePayload, PayloadPipe } from './payload.pipe.js';
import { RegisteredGuard } from './registered.guard.js';
import { SessionHandshake } from './session-handshake.service.js';
import { SocketEvents } from './socket-events.service.js';

/**
 * The WebSocket endpoint (path from WS_PATH, on the HTTP server's port). It
 * only routes: sessions begin in SessionHandshake, requests run in
 * RequestRunner, interrupts in InterruptService, and every frame leaves
 * through the session's outbound queue or the connection itself.
 */
@WebSocketGateway()
@UseFilters(GatewayErrorFilter)
export class AgentGateway implements OnGatewayConnection<WebSocket>, OnGatewayDisconnect<WebSocket> {
  constructor(
    private readonly sockets: SocketEvents,
    private readonly handshake: SessionHandshake,
    private readonly runner: RequestRunner,
    private readonly interrupts: InterruptService,
    private readonly reports: ClientReports,
    private readonly conversations: ConversationService,
    private readonly voice: VoiceService,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    this.sockets.opened(socket, request);
  }

  handleDisconnect(socket: WebSocket): void {
    this.sockets.closed(socket);
  }

  @SubscribeMessage('REGISTER')
  onRegister(@ConnectedSocket() socket: WebSocket, @MessageBody() message: InboundMessage): void {
    this.handshake.register(this.sockets.connectionOf(socket), message);
  }

  @SubscribeMessage('RESUME')
  onResume(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('RESUME')) payload: ParsedClientPayloads['RESUME'],
  ): Promise<void> {
    return this.handshake.resume(this.sockets.connectionOf(socket), payload);
  }

  @SubscribeMessage('REQUEST')
  @UseGuards(RegisteredGuard)
  onRequest(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('REQUEST')) payload: ParsedClientPayloads['REQUEST'],
  ): void | Promise<void> {
    const session = this.sockets.sessionOf(socket);
    if (payload.data_type === 'AUDIO') return this.voice.audioRequest(session, payload);
    const { request_id: requestId, content, require_tts: requireTts, durable } = payload;
    this.runner.start(session, { requestId, prompt: content.text, requireTts, durable }, { transport: 'ws' });
  }

  /** Hands-free microphone audio: AUDIO messages, or binary frames of kind 0x02 (their envelope is an empty AUDIO). */
  @SubscribeMessage('AUDIO')
  @UseGuards(RegisteredGuard)
  onAudio(@ConnectedSocket() socket: WebSocket, @MessageBody() message: InboundMessage): Promise<void> {
    const session = this.sockets.sessionOf(socket);
    if (message.inputAudio) return this.voice.audio(session, undefined, message.inputAudio);
    return this.voice.audio(session, parsePayload('AUDIO', message.envelope), undefined);
  }

  @SubscribeMessage('INTERRUPT')
  @UseGuards(RegisteredGuard)
  onInterrupt(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('INTERRUPT')) payload: ParsedClientPayloads['INTERRUPT'],
    @MessageBody() message: InboundMessage,
  ): void | Promise<void> {
    return this.interrupts.interrupt(this.sockets.sessionOf(socket), payload, message.receivedAt);
  }

  @SubscribeMessage('PLAYBACK')
  @UseGuards(RegisteredGuard)
  onPlayback(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('PLAYBACK')) payload: ParsedClientPayloads['PLAYBACK'],
  ): void {
    this.reports.playback(this.sockets.sessionOf(socket), payload);
  }

  @SubscribeMessage('FUNCTION_RESULT')
  @UseGuards(RegisteredGuard)
  onFunctionResult(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody(new PayloadPipe('FUNCTION_RESULT')) payload: ParsedClientPayloads['FUNCTION_RESULT'],
  ): void {
    this.reports.functionResult(this.sockets.sessionOf(socket), payload);
  }

  @SubscribeMessage('HISTORY')
  @UseGuards(RegisteredGuard)
  async onHistory(@ConnectedSocket() socket: WebSocket): Promise<void> {
    const session = this.sockets.sessionOf(socket);
    const conversation = await this.conversations.read(session.id);
    this.sockets
      .connectionOf(socket)
      .sendDirect('HISTORY', { session_id: session.id, messages: (conversation?.messages ?? []).map(toHistoryMessage) });
  }

  @SubscribeMessage('RESET')
  @UseGuards(RegisteredGuard)
  async onReset(@ConnectedSocket() socket: WebSocket): Promise<void> {
    const cleared = await this.conversations.clear(this.sockets.sessionOf(socket).id);
    this.sockets.connectionOf(socket).sendDirect('RESET_ACK', { cleared });
  }

  @SubscribeMessage('HEARTBEAT')
  @UseGuards(RegisteredGuard)
  onHeartbeat(@ConnectedSocket() socket: WebSocket): void {
    this.sockets.connectionOf(socket).sendDirect('HEARTBEAT', { server_time: Date.now() });
  }

  @SubscribeMessage(INVALID_EVENT)
  onInvalid(@MessageBody() message: InvalidMessage): never {
    throw message.error;
  }
}
