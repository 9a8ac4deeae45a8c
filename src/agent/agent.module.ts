import { Module } from '@nestjs/common';
import { LlmStreamModule } from '../llm-stream/llm-stream.module.js';
import { RequestRegistryModule } from '../request-registry/request-registry.module.js';
import { ConversationModule } from '../conversation/conversation.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { TtsModule } from '../tts/tts.module.js';
import { AgentService } from './agent.service.js';
import { RemoteControl } from './remote-control.service.js';

@Module({
  imports: [RequestRegistryModule, LlmStreamModule, TtsModule, ToolsModule, ConversationModule],
  providers: [AgentService, RemoteControl],
  exports: [AgentService, RemoteControl],
})
export class AgentModule {}
