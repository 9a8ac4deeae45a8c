import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConversationModule } from '../conversation/conversation.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { SessionModule } from '../session/session.module.js';
import { StopsModule } from '../stops/stops.module.js';
import { HealthController } from './health.controller.js';
import { ShutdownService } from './shutdown.service.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), GatewayModule, RequestsModule, ConversationModule, SessionModule, StopsModule],
  controllers: [HealthController],
  providers: [ShutdownService],
  exports: [ShutdownService],
})
export class LifecycleModule {}
