import { Module } from '@nestjs/common';
import { ModelCallsModule } from '../model-calls/model-calls.module.js';
import { MessagesController } from './messages.controller.js';
import { MessagesService } from './messages.service.js';

/** Anthropic's Messages API (`POST /v1/messages`). */
@Module({ imports: [ModelCallsModule], controllers: [MessagesController], providers: [MessagesService] })
export class MessagesModule {}
