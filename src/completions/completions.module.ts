import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { LlmModule } from '../llm/llm.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { StopsModule } from '../stops/stops.module.js';
import { CompletionReplies } from './completion-replies.js';
import { CompletionsController } from './completions.controller.js';
import { CompletionsService } from './completions.service.js';

@Module({
  imports: [AuthModule, HttpLimitsModule, LlmModule, RequestsModule, StopsModule],
  controllers: [CompletionsController],
  providers: [CompletionsService, CompletionReplies],
})
export class CompletionsModule {}
