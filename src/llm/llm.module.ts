import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { LlmProvider } from './llm-provider.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { SimulatedProvider } from './simulated.provider.js';

function createLlmProvider(config: AppConfig): LlmProvider {
  const logger = new Logger('LlmStream');
  const { llm, simulated } = config;
  if (!llm.baseUrl) {
    logger.warn(
      `LLM_BASE_URL is not set: replies come from the built-in SIMULATED model (${simulated.tokensPerSecond} tokens/s); ` +
        'set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL to use a real provider',
    );
    return new SimulatedProvider(simulated);
  }
  logger.log(`LLM upstream ${llm.baseUrl} model ${llm.model}`);
  return new OpenAiCompatibleProvider({
    baseUrl: llm.baseUrl,
    apiKey: llm.apiKey,
    model: llm.model,
    connectTimeoutMs: llm.connectTimeoutMs,
    firstTokenTimeoutMs: llm.firstTokenTimeoutMs,
    idleTimeoutMs: llm.idleTimeoutMs,
    requestTimeoutMs: llm.requestTimeoutMs,
  });
}

@Module({
  providers: [{ provide: LlmProvider, useFactory: createLlmProvider, inject: [APP_CONFIG] }],
  exports: [LlmProvider],
})
export class LlmModule {}
