import { VoiceModule } from '../voice/voice.module.js';
import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { ConversationModule } from '../conversation/conversation.module.js';
import { LlmModule } from '../llm/llm.module.js';
import { SessionModule } from '../session/session.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { TtsModule } from '../tts/tts.module.js';
import { AgentGateway } from './agent.gateway.js';
import { ConnectionRegistry } from './connection-registry.service.js';
import { RegisterAcks } from './register-acks.js';
import { SessionHandshake } from './session-handshake.service.js';
import { SocketEvents } from './socket-events.service.js';

/** The WebSocket transport: sockets, their messages, their sessions' handshakes. */
@Module({
  imports: [AgentModule, AuthModule, ConversationModule, LlmModule, SessionModule, ToolsModule, TtsModule, VoiceModule],
  providers: [AgentGateway, ConnectionRegistry, SocketEvents, SessionHandshake, RegisterAcks],
  exports: [ConnectionRegistry],
})
export class GatewayModule {}
