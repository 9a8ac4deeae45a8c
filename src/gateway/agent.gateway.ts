import type { ClientMsgType } from '@agent-gateway/protocol';
import { WebSocketGateway } from '@nestjs/websockets';
import { ClientReports } from '../agent/client-reports.service.js';
import { InterruptService } from '../agent/interrupts.service.js';
import { RequestRunner } from '../agent/request-runner.service.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { VoiceService } from '../voice/voice.service.js';
import { toHistoryMessage } from '../conversation/stored-message.js';
import type { Connection } from './connection.js';
import type { ParsedFrame } from './envelope-parser.js';
import { INVALID_EVENT, type InboundMessage } from './inbound-message.js';
import { parsePayload } from './payload-parser.js';
import { SessionHandshake } from './session-handshake.service.js';
import { SocketEvents } from './socket-events.service.js';

type Route = (connection: Connection, message: InboundMessage) => void | Promise<void>;

/**
 * The WebSocket endpoint (path from WS_PATH, on the HTTP server's port). It
 * only routes: sessions begin in SessionHandshake, requests run in
 * RequestRunner, interrupts in InterruptService, and every frame leaves
 * through the session's outbound queue or the connection itself. Nest
 * makes the server (through EnvelopeWsAdapter) for this gateway; frames
 * come from the adapter (onFrame), not through Nest's message handlers.
 */
@WebSocketGateway()
export class AgentGateway {
  /**
   * What each msg_type does. All but REGISTER and RESUME need the
   * connection's session, which is checked before the payload is.
   */
  private readonly routes: Record<ClientMsgType, Route> = {
    REGISTER: (connection, message) => this.handshake.register(connection, message),
    RESUME: (connection, { envelope }) => this.handshake.resume(connection, parsePayload('RESUME', envelope)),
    REQUEST: (connection, { envelope }) => {
      const session = connection.sessionFor(envelope);
      const payload = parsePayload('REQUEST', envelope);
      if (payload.data_type === 'AUDIO') return this.voice.audioRequest(session, payload);
      const { request_id: requestId, content, require_tts: requireTts, durable } = payload;
      this.runner.start(session, { requestId, prompt: content.text, requireTts, durable }, { transport: 'ws' });
    },
    // Hands-free microphone audio: AUDIO messages, or binary frames of kind 0x02 (their envelope is an empty AUDIO).
    AUDIO: (connection, { envelope, inputAudio }) => {
      const session = connection.sessionFor(envelope);
      if (inputAudio) return this.voice.audio(session, undefined, inputAudio);
      return this.voice.audio(session, parsePayload('AUDIO', envelope), undefined);
    },
    INTERRUPT: (connection, { envelope, receivedAt }) => {
      const session = connection.sessionFor(envelope);
      return this.interrupts.interrupt(session, parsePayload('INTERRUPT', envelope), receivedAt);
    },
    PLAYBACK: (connection, { envelope }) => {
      const session = connection.sessionFor(envelope);
      this.reports.playback(session, parsePayload('PLAYBACK', envelope));
    },
    FUNCTION_RESULT: (connection, { envelope }) => {
      const session = connection.sessionFor(envelope);
      this.reports.functionResult(session, parsePayload('FUNCTION_RESULT', envelope));
    },
    HISTORY: async (connection, { envelope }) => {
      const session = connection.sessionFor(envelope);
      const conversation = await this.conversations.read(session.id);
      connection.sendDirect('HISTORY', { session_id: session.id, messages: (conversation?.messages ?? []).map(toHistoryMessage) });
    },
    RESET: async (connection, { envelope }) => {
      const cleared = await this.conversations.clear(connection.sessionFor(envelope).id);
      connection.sendDirect('RESET_ACK', { cleared });
    },
    HEARTBEAT: (connection, { envelope }) => {
      connection.sessionFor(envelope); // a session's sockets only
      connection.sendDirect('HEARTBEAT', { server_time: Date.now() });
    },
  };

  constructor(
    private readonly sockets: SocketEvents,
    private readonly handshake: SessionHandshake,
    private readonly runner: RequestRunner,
    private readonly interrupts: InterruptService,
    private readonly reports: ClientReports,
    private readonly conversations: ConversationService,
    private readonly voice: VoiceService,
  ) {}

  /**
   * Every frame of every connection, in its turn (EnvelopeWsAdapter), and
   * frames that are not a valid envelope, whose error is the answer. What a
   * route throws is answered with an ERROR (SocketEvents.refused).
   */
  async onFrame(connection: Connection, frame: ParsedFrame): Promise<void> {
    try {
      if (frame.event === INVALID_EVENT) throw frame.data.error;
      await this.routes[frame.event](connection, frame.data);
    } catch (exception) {
      this.sockets.refused(connection, exception);
    }
  }
}
