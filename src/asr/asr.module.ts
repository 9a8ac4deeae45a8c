import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { AsrProvider } from './asr-provider.js';
import { AsrService } from './asr.service.js';
import { DashScopeParaformerProvider } from './dashscope-paraformer.provider.js';
import { OpenAiTranscriptionProvider } from './openai-transcription.provider.js';
import { PocketsphinxProvider, probePocketsphinx } from './pocketsphinx.provider.js';

/** Picks the recognizer ASR_PROVIDER names; with none usable, voice input is off and REGISTER_ACK says why. */
async function createAsrService(config: AppConfig): Promise<AsrService> {
  const logger = new Logger('Asr');
  const { asr } = config;
  let provider: AsrProvider | null = null;
  let reason: string | undefined;
  switch (asr.provider) {
    case 'none':
      reason = 'ASR_PROVIDER=none';
      break;
    case 'openai':
      provider = new OpenAiTranscriptionProvider({
        baseUrl: (asr.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
        apiKey: asr.apiKey,
        model: asr.model ?? 'gpt-4o-mini-transcribe',
        timeoutMs: asr.timeoutMs,
        // 16 kHz, 16-bit: VAD_MAX_UTTERANCE_MS of it.
        maxAudioBytes: Math.ceil((config.voice.maxUtteranceMs / 1000) * 32_000),
      });
      break;
    case 'dashscope':
      provider = new DashScopeParaformerProvider({
        url: asr.baseUrl ?? 'wss://dashscope.aliyuncs.com/api-ws/v1/inference/',
        apiKey: asr.apiKey,
        model: asr.model ?? 'paraformer-realtime-v2',
        timeoutMs: asr.timeoutMs,
      });
      break;
    case 'auto':
    case 'pocketsphinx': {
      const options = { ...asr.pocketsphinx, timeoutMs: asr.timeoutMs };
      try {
        await probePocketsphinx(options);
        provider = new PocketsphinxProvider(options);
      } catch (error) {
        reason = `pocketsphinx is not usable (${(error as Error).message}); install it (apt-get install pocketsphinx pocketsphinx-en-us) or set ASR_PROVIDER`;
      }
      break;
    }
  }
  if (provider) logger.log(`speech recognition by ${provider.descriptor.provider}, model ${provider.descriptor.model}`);
  else if (asr.provider === 'pocketsphinx') logger.error(`ASR_PROVIDER=pocketsphinx but ${reason}: voice input is off`);
  else logger.warn(`speech recognition is off: ${reason}`);
  return new AsrService(provider, reason, asr.language);
}

@Module({
  providers: [{ provide: AsrService, useFactory: createAsrService, inject: [APP_CONFIG] }],
  exports: [AsrService],
})
export class AsrModule {}
