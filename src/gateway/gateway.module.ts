import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { LlmStreamModule } from '../llm-stream/llm-stream.module.js';
import { ConversationModule } from '../conversation/conversation.module.js';
import { RequestRegistryModule } from '../request-registry/request-registry.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { TtsModule } from '../tts/tts.module.js';
import { AgentGateway } from './agent.gateway.js';
import { InstanceReaper } from './instance-reaper.service.js';
import { LostRequests } from './lost-requests.service.js';
import { RemoteCommands } from './remote-commands.service.js';
import { SessionHandover } from './session-handover.service.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
import { SessionService } from './session.service.js';

@Module({
  imports: [AgentModule, AuthModule, LlmStreamModule, TtsModule, ToolsModule, ConversationModule, RequestRegistryModule],
  providers: [AgentGateway, SessionService, SessionLifecycle, SessionHandover, RemoteCommands, InstanceReaper, LostRequests],
  exports: [SessionService, SessionLifecycle],
})
export class GatewayModule {}
