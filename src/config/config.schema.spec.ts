import { ConfigError, loadConfig } from './config.schema.js';

describe('loadConfig', () => {
  it('starts in open development mode with embedded defaults', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(8000);
    expect(config.ws.path).toBe('/ws/agent');
    expect(config.auth.openMode).toBe(true);
    expect(config.llm.baseUrl).toBeUndefined();
  });

  it('splits and trims API keys, named (name:key) or not', () => {
    const config = loadConfig({ GATEWAY_API_KEYS: ' a , alice:sk-b,,c ' });
    expect(config.auth.apiKeys).toEqual([{ key: 'a' }, { name: 'alice', key: 'sk-b' }, { key: 'c' }]);
    expect(config.auth.openMode).toBe(false);
  });

  it('maps model names to an upstream and its name', () => {
    const config = loadConfig({ LLM_MODEL_MAP: 'gpt-4o=fake, claude=anthropic:claude-up, sim=simulated:, llama3:8b=llama3' });
    expect(config.llm.modelMap).toEqual({
      'gpt-4o': { upstream: 'default', model: 'fake' },
      claude: { upstream: 'anthropic', model: 'claude-up' },
      sim: { upstream: 'simulated', model: 'sim' },
      'llama3:8b': { upstream: 'default', model: 'llama3' },
    });
    expect(() => loadConfig({ LLM_MODEL_MAP: 'nothing' })).toThrow(/LLM_MODEL_MAP/);
  });

  it('refuses to start without keys in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/refusing to start/);
    expect(() => loadConfig({ NODE_ENV: 'production', GATEWAY_API_KEYS: 'k' })).not.toThrow();
  });

  it('is not open when only operator keys are configured', () => {
    const config = loadConfig({ GATEWAY_ADMIN_KEYS: 'ops-key' });
    expect(config.auth.openMode).toBe(false);
    expect(() => loadConfig({ NODE_ENV: 'production', GATEWAY_ADMIN_KEYS: 'ops-key' })).not.toThrow();
  });

  it('names every invalid variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', LLM_BASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('LLM_BASE_URL');
    expect(message).toContain('LOG_LEVEL');
  });

  it('strips the trailing slash of the upstream URL and treats an empty one as unset', () => {
    expect(loadConfig({ LLM_BASE_URL: 'http://x.test/v1/' }).llm.baseUrl).toBe('http://x.test/v1');
    expect(loadConfig({ LLM_BASE_URL: '' }).llm.baseUrl).toBeUndefined();
  });

  it('requires the hard send limit above the high-water mark', () => {
    expect(() => loadConfig({ WS_SEND_HIGH_WATER_BYTES: '10000', WS_SEND_HARD_LIMIT_BYTES: '5000' })).toThrow(/HARD_LIMIT/);
  });
});
