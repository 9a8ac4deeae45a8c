import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ConversationService } from './conversation.service.js';
import { RedisService } from '../redis/redis.service.js';
import { ConversationStore, InMemoryConversationStore } from './conversation.store.js';
import { HistoryController } from './history.controller.js';
import { RedisConversationStore } from './redis-conversation.store.js';

@Module({
  imports: [AuthModule],
  controllers: [HistoryController],
  providers: [
    {
      provide: ConversationStore,
      inject: [RedisService],
      useFactory: (redis: RedisService) => (redis.enabled ? new RedisConversationStore(redis) : new InMemoryConversationStore()),
    },
    ConversationService,
  ],
  exports: [ConversationService],
})
export class ConversationModule {}
