import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { SessionLifecycle } from './session-lifecycle.service.js';
import { SessionRegistry } from './session-registry.service.js';

/** Sessions: their frames' delivery, numbering and log, and when they begin and end. */
@Module({
  imports: [ConversationModule, RequestsModule],
  providers: [SessionRegistry, SessionLifecycle],
  exports: [SessionRegistry, SessionLifecycle],
})
export class SessionModule {}
