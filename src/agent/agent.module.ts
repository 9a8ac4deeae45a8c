import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module.js';
import { LlmModule } from '../llm/llm.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { StopsModule } from '../stops/stops.module.js';
import { ToolsModule } from '../tools/tools.module.js';
import { TtsModule } from '../tts/tts.module.js';
import { ClientReports } from './client-reports.service.js';
import { InterruptService } from './interrupts.service.js';
import { ReplyStream } from './reply-stream.service.js';
import { RequestEndings } from './request-endings.service.js';
import { RequestRunner } from './request-runner.service.js';
import { SpokenReplies } from './spoken-replies.js';

/** Requests as they run: each turn's reply, its endings, its interrupts and what the client reports of it. */
@Module({
  imports: [RequestsModule, LlmModule, TtsModule, ToolsModule, ConversationModule, StopsModule],
  providers: [RequestRunner, ReplyStream, RequestEndings, SpokenReplies, InterruptService, ClientReports],
  exports: [RequestRunner, InterruptService, ClientReports],
})
export class AgentModule {}
