import type { OnModuleDestroy } from '@nestjs/common';
import { GatewayError } from '../common/gateway-error.js';
import type { ModelTarget } from '../config/model-map.js';
import type { LlmProvider } from './llm-provider.js';

/** A model a client asked for: the provider that serves it, the upstream's name for it, and the client's own name. */
export interface ModelRoute {
  /** What the client asked for (or the default model's name): what its answers say. */
  name: string;
  provider: LlmProvider;
  /** The upstream's name of the model. */
  model: string;
}

export interface ModelRouterOptions {
  /** The provider behind LLM_BASE_URL (or the simulated model): WebSocket sessions and unmapped names go there. */
  defaultProvider: LlmProvider;
  /** The other upstreams a model map entry may name. */
  upstreams: Partial<Record<Exclude<ModelTarget['upstream'], 'default'>, LlmProvider>>;
  modelMap: Record<string, ModelTarget>;
  allowedModels: readonly string[];
}

/**
 * Which upstream serves a model name (LLM_MODEL_MAP, LLM_ALLOWED_MODELS), for
 * every HTTP API alike: a name the map does not hold goes to the default
 * upstream as it is, unless an allowlist says no.
 */
export class ModelRouter implements OnModuleDestroy {
  constructor(private readonly options: ModelRouterOptions) {}

  /** Each upstream's connections closed once, whichever names lead to it. */
  async onModuleDestroy(): Promise<void> {
    const { defaultProvider, upstreams } = this.options;
    const all = new Set([defaultProvider, ...Object.values(upstreams)]);
    await Promise.all([...all].map((provider) => provider.close()));
  }

  /** Throws MODEL_NOT_FOUND for a name the allowlist does not hold, or whose upstream is not configured. */
  route(requested: string | undefined): ModelRoute {
    const { defaultProvider, modelMap, allowedModels, upstreams } = this.options;
    const name = requested || defaultProvider.descriptor.model;
    if (requested && allowedModels.length > 0 && !allowedModels.includes(requested) && !Object.hasOwn(modelMap, requested)) {
      throw new GatewayError('MODEL_NOT_FOUND', { message: `The model '${requested}' does not exist or you do not have access to it` });
    }
    const target = Object.hasOwn(modelMap, name) ? modelMap[name] : undefined;
    if (!target) return { name, provider: defaultProvider, model: requested ?? defaultProvider.descriptor.model };
    const provider = target.upstream === 'default' ? defaultProvider : upstreams[target.upstream];
    if (!provider) {
      throw new GatewayError('MODEL_NOT_FOUND', {
        message: `The model '${name}' is mapped to the ${target.upstream} upstream, which is not configured`,
      });
    }
    return { name, provider, model: target.model };
  }

  /** The names clients may use: the allowlist when there is one, else the default model; and the mapped ones whose upstream is there. */
  models(): string[] {
    const { defaultProvider, modelMap, allowedModels, upstreams } = this.options;
    const base = allowedModels.length > 0 ? allowedModels : [defaultProvider.descriptor.model];
    const mapped = Object.entries(modelMap).flatMap(([name, target]) =>
      target.upstream === 'default' || upstreams[target.upstream] ? [name] : [],
    );
    return [...new Set([...base, ...mapped])];
  }
}
