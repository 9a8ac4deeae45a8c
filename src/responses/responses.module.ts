import { Module } from '@nestjs/common';
import { ModelCallsModule } from '../model-calls/model-calls.module.js';

/** OpenAI's Responses API (`POST /v1/responses`). */
@Module({ imports: [ModelCallsModule], controllers: [], providers: [] })
export class ResponsesModule {}
