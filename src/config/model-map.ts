import { ConfigError } from './config-error.js';
import { splitList } from './env.schema.js';

/** Where a model name leads: an upstream, and that upstream's name for it. */
export interface ModelTarget {
  upstream: 'default' | 'openai' | 'anthropic' | 'simulated';
  model: string;
}

const UPSTREAM_PREFIX = /^(openai|anthropic|simulated):(.*)$/;

/** `name=upstream-name`, or `name=anthropic:upstream-name` (`openai:`, `simulated:`) for another upstream than the default. */
export function parseModelMap(raw: string): Record<string, ModelTarget> {
  return Object.fromEntries(
    splitList(raw).map((pair) => {
      const at = pair.indexOf('=');
      const from = pair.slice(0, at).trim();
      const to = pair.slice(at + 1).trim();
      if (at < 0 || !from || !to) throw new ConfigError(`LLM_MODEL_MAP: "${pair}" is not name=upstream-name`);
      const prefixed = UPSTREAM_PREFIX.exec(to);
      const target: ModelTarget = prefixed
        ? { upstream: prefixed[1] as ModelTarget['upstream'], model: prefixed[2] || from }
        : { upstream: 'default', model: to };
      return [from, target];
    }),
  );
}
