import { Module } from '@nestjs/common';
import { ModelCallsModule } from '../model-calls/model-calls.module.js';
import { CompletionsController } from './completions.controller.js';
import { CompletionsService } from './completions.service.js';

@Module({
  imports: [ModelCallsModule],
  controllers: [CompletionsController],
  providers: [CompletionsService],
})
export class CompletionsModule {}
