import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HttpLimitsModule } from '../http/http-limits.module.js';
import { LlmModule } from '../llm/llm.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { StopsModule } from '../stops/stops.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { ModelCallReplies } from './model-call-replies.js';
import { ModelCalls } from './model-call.service.js';

/** What every HTTP model API shares: running a call, its stops, its answers and errors, its usage record. */
@Module({
  imports: [AuthModule, HttpLimitsModule, LlmModule, RequestsModule, StopsModule, UsageModule],
  providers: [ModelCalls, ModelCallReplies],
  exports: [ModelCalls, AuthModule, LlmModule],
})
export class ModelCallsModule {}
