import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { AnthropicProvider } from './anthropic.provider.js';
import { LlmProvider } from './llm-provider.js';
import { ModelRouter } from './model-router.js';
import { OpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { SimulatedProvider } from './simulated.provider.js';

/**
 * The upstreams, built once from config: the default one (LLM_BASE_URL, as
 * LLM_PROVIDER says, or the simulated model), a native Anthropic one when
 * ANTHROPIC_BASE_URL is set, and the simulated model for map entries that
 * name it. WebSocket sessions use the default; the HTTP APIs route by name.
 */
function createUpstreams(config: AppConfig): ModelRouter {
  const logger = new Logger('LlmStream');
  const { llm, simulated } = config;
  const timeouts = {
    connectTimeoutMs: llm.connectTimeoutMs,
    firstTokenTimeoutMs: llm.firstTokenTimeoutMs,
    idleTimeoutMs: llm.idleTimeoutMs,
    requestTimeoutMs: llm.requestTimeoutMs,
  };
  const simulatedProvider = new SimulatedProvider(simulated);
  let defaultProvider: LlmProvider;
  if (!llm.baseUrl) {
    logger.warn(
      `LLM_BASE_URL is not set: replies come from the built-in SIMULATED model (${simulated.tokensPerSecond} tokens/s); ` +
        'set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL to use a real provider',
    );
    defaultProvider = simulatedProvider;
  } else {
    logger.log(`LLM upstream ${llm.baseUrl} (${llm.provider}) model ${llm.model}`);
    const options = { ...timeouts, baseUrl: llm.baseUrl, apiKey: llm.apiKey, model: llm.model };
    defaultProvider = llm.provider === 'anthropic' ? new AnthropicProvider(options) : new OpenAiCompatibleProvider(options);
  }
  const anthropic = llm.anthropic.baseUrl
    ? new AnthropicProvider({ ...timeouts, baseUrl: llm.anthropic.baseUrl, apiKey: llm.anthropic.apiKey, model: llm.model })
    : defaultProvider instanceof AnthropicProvider
      ? defaultProvider
      : undefined;
  const openai = defaultProvider instanceof OpenAiCompatibleProvider ? defaultProvider : undefined;
  return new ModelRouter({
    defaultProvider,
    upstreams: { simulated: simulatedProvider, ...(anthropic && { anthropic }), ...(openai && { openai }) },
    modelMap: llm.modelMap,
    allowedModels: llm.allowedModels,
  });
}

@Module({
  providers: [
    { provide: ModelRouter, useFactory: createUpstreams, inject: [APP_CONFIG] },
    { provide: LlmProvider, useFactory: (router: ModelRouter) => router.route(undefined).provider, inject: [ModelRouter] },
  ],
  exports: [LlmProvider, ModelRouter],
})
export class LlmModule {}
