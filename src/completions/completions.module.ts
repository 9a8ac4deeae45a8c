import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { LlmStreamModule } from '../llm-stream/llm-stream.module.js';
import { RequestRegistryModule } from '../request-registry/request-registry.module.js';
import { CompletionsController } from './completions.controller.js';
import { CompletionsService } from './completions.service.js';

@Module({
  imports: [AuthModule, HttpLimitsModule, LlmStreamModule, RequestRegistryModule],
  controllers: [CompletionsController],
  providers: [CompletionsService],
})
export class CompletionsModule {}
