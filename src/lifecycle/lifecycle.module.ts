import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConversationModule } from '../conversation/conversation.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { RequestRegistryModule } from '../request-registry/request-registry.module.js';
import { HealthController } from './health.controller.js';
import { ShutdownService } from './shutdown.service.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), GatewayModule, RequestRegistryModule, ConversationModule],
  controllers: [HealthController],
  providers: [ShutdownService],
  exports: [ShutdownService],
})
export class LifecycleModule {}
