import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { LlmModule } from '../llm/llm.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { CompletionsController } from './completions.controller.js';
import { CompletionsService } from './completions.service.js';

@Module({
  imports: [AuthModule, HttpLimitsModule, LlmModule, RequestsModule],
  controllers: [CompletionsController],
  providers: [CompletionsService],
})
export class CompletionsModule {}
