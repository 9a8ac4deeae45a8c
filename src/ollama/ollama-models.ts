import { createHash } from 'node:crypto';

/** Ollama's model details; the gateway knows nothing of weights or quantisation, so those stay empty. */
interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/** A model as `/api/tags` lists it. */
export interface OllamaModelEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: OllamaModelDetails;
}

/** Models are "modified" when the gateway started: they change only with its configuration. */
const STARTED_AT = new Date().toISOString();

/** How long Ollama keeps a model loaded by default; `/api/ps` says the gateway's stay that long from now. */
const KEEP_ALIVE_MS = 5 * 60_000;

export function modelEntry(name: string): OllamaModelEntry {
  return {
    name,
    model: name,
    modified_at: STARTED_AT,
    size: 0,
    // Stable for a name, as a digest is for a model's weights.
    digest: createHash('sha256').update(name).digest('hex'),
    details: {
      parent_model: '',
      format: 'gguf',
      family: familyOf(name),
      families: [familyOf(name)],
      parameter_size: '',
      quantization_level: '',
    },
  };
}

/** `/api/ps`: every model is always ready. */
export function runningEntry(name: string): OllamaModelEntry & { expires_at: string; size_vram: number } {
  return { ...modelEntry(name), expires_at: new Date(Date.now() + KEEP_ALIVE_MS).toISOString(), size_vram: 0 };
}

/** `/api/show`: what there is to say without a Modelfile. */
export function modelInfo(name: string, capabilities: string[]): Record<string, unknown> {
  const { details, modified_at } = modelEntry(name);
  return { license: '', modelfile: '', parameters: '', template: '', system: '', details, model_info: {}, capabilities, modified_at };
}

/** `llama3:8b` → `llama3`, `org/qwen2.5:7b` → `qwen2.5`. */
function familyOf(name: string): string {
  return (
    name
      .replace(/:[^/]*$/, '')
      .split('/')
      .at(-1) ?? name
  );
}
