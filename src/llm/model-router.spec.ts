import type { GatewayError } from '../common/gateway-error.js';
import { loadConfig } from '../config/config.schema.js';
import { ModelRouter } from './model-router.js';
import { SimulatedProvider } from './simulated.provider.js';

const provider = (model: string) => {
  const simulated = new SimulatedProvider({ tokensPerSecond: 1000, firstTokenDelayMs: 0, replyTokens: 1 });
  Object.defineProperty(simulated, 'descriptor', { value: { provider: 'test', model, simulated: false } });
  return simulated;
};

describe('ModelRouter', () => {
  const main = provider('main-model');
  const anthropic = provider('claude-default');
  const router = (env: Record<string, string>, upstreams = {}) => {
    const { llm } = loadConfig(env);
    return new ModelRouter({ defaultProvider: main, upstreams, modelMap: llm.modelMap, allowedModels: llm.allowedModels });
  };

  it('sends unmapped names to the default upstream as they are, and mapped ones where the map says', () => {
    const routes = router({ LLM_MODEL_MAP: 'gpt-4o=fake,claude=anthropic:claude-up' }, { anthropic });
    expect(routes.route(undefined)).toEqual({ name: 'main-model', provider: main, model: 'main-model' });
    expect(routes.route('other')).toEqual({ name: 'other', provider: main, model: 'other' });
    expect(routes.route('gpt-4o')).toEqual({ name: 'gpt-4o', provider: main, model: 'fake' });
    expect(routes.route('claude')).toEqual({ name: 'claude', provider: anthropic, model: 'claude-up' });
    expect(routes.models()).toEqual(['main-model', 'gpt-4o', 'claude']);
  });

  it('refuses names off the allowlist, and names mapped to an upstream that is not configured', () => {
    const routes = router({ LLM_ALLOWED_MODELS: 'main-model', LLM_MODEL_MAP: 'claude=anthropic:x' });
    expect(routes.route('main-model').provider).toBe(main);
    const codeOf = (name: string) => {
      try {
        routes.route(name);
        return undefined;
      } catch (error) {
        return (error as GatewayError).code;
      }
    };
    expect(codeOf('other')).toBe('MODEL_NOT_FOUND');
    expect(codeOf('claude')).toBe('MODEL_NOT_FOUND');
    expect(codeOf('__proto__')).toBe('MODEL_NOT_FOUND');
  });
});
