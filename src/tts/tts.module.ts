import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DashScopeCosyVoiceProvider } from './dashscope-cosyvoice.provider.js';
import { EspeakProvider, probeEspeak } from './espeak.provider.js';
import { OpenAiSpeechProvider } from './openai-speech.provider.js';
import { SpeechService } from './speech.service.js';
import type { TtsProvider } from './tts-provider.js';

const PROBE_TIMEOUT_MS = 5_000;

/** Picks the provider TTS_PROVIDER names; with none usable the gateway runs text-only and says why. */
async function createSpeechService(config: AppConfig): Promise<SpeechService> {
  const logger = new Logger('Tts');
  const { tts } = config;
  let provider: TtsProvider | null = null;
  let reason: string | undefined;
  switch (tts.provider) {
    case 'none':
      reason = 'TTS_PROVIDER=none';
      break;
    case 'openai':
      provider = new OpenAiSpeechProvider({
        baseUrl: (tts.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
        apiKey: tts.apiKey,
        model: tts.model ?? 'gpt-4o-mini-tts',
        voice: tts.voice ?? 'alloy',
        format: tts.format,
        sampleRate: tts.sampleRate,
        timeoutMs: tts.timeoutMs,
      });
      break;
    case 'dashscope':
      provider = new DashScopeCosyVoiceProvider({
        url: tts.baseUrl ?? 'wss://dashscope.aliyuncs.com/api-ws/v1/inference/',
        apiKey: tts.apiKey,
        model: tts.model ?? 'cosyvoice-v3-flash',
        voice: tts.voice ?? 'longanyang',
        format: tts.format,
        sampleRate: tts.sampleRate,
        timeoutMs: tts.timeoutMs,
      });
      break;
    case 'auto':
    case 'espeak':
      try {
        const { sampleRate } = await probeEspeak(tts.espeakBinary, PROBE_TIMEOUT_MS);
        provider = new EspeakProvider({ binary: tts.espeakBinary, voice: tts.voice, timeoutMs: tts.timeoutMs, sampleRate });
      } catch (error) {
        reason = `espeak-ng is not usable (${(error as Error).message}); install it (apt-get install espeak-ng) or set TTS_PROVIDER`;
      }
      break;
  }
  if (provider) {
    const { format } = provider.descriptor;
    logger.log(`speech by ${provider.descriptor.provider}, voice ${provider.descriptor.voice}, ${format.codec} ${format.sample_rate} Hz`);
  } else if (tts.provider === 'espeak') {
    logger.error(`TTS_PROVIDER=espeak but ${reason}: replies are text only`);
  } else {
    logger.warn(`speech synthesis is off: ${reason}`);
  }
  return new SpeechService(provider, reason, tts);
}

@Module({
  providers: [{ provide: SpeechService, useFactory: createSpeechService, inject: [APP_CONFIG] }],
  exports: [SpeechService],
})
export class TtsModule {}
