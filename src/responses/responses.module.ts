import { Module } from '@nestjs/common';
import { ModelCallsModule } from '../model-calls/model-calls.module.js';
import { ResponsesController } from './responses.controller.js';
import { ResponsesService } from './responses.service.js';

/** OpenAI's Responses API (`POST /v1/responses`). */
@Module({ imports: [ModelCallsModule], controllers: [ResponsesController], providers: [ResponsesService] })
export class ResponsesModule {}
