import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module.js';
import { AsrModule } from '../asr/asr.module.js';
import { RequestsModule } from '../requests/requests.module.js';
import { SessionModule } from '../session/session.module.js';
import { VadModule } from '../vad/vad.module.js';
import { VoiceEngines } from './voice-engines.service.js';
import { VoiceService } from './voice.service.js';

@Module({
  imports: [AgentModule, AsrModule, VadModule, RequestsModule, SessionModule],
  providers: [VoiceEngines, VoiceService],
  exports: [VoiceEngines, VoiceService],
})
export class VoiceModule {}
