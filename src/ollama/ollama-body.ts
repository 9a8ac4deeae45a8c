import { z } from 'zod';

/**
 * Ollama's sampling options the gateway can honour (the rest, such as
 * num_ctx or mirostat, are about a local runner and are ignored).
 * `num_predict` below 0 is Ollama's "no limit".
 */
const OllamaOptions = z.looseObject({
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  num_predict: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
});

/** A tool call as Ollama writes it: its arguments an object (some clients send the JSON text). */
const OllamaToolCall = z.looseObject({
  id: z.string().optional(),
  function: z.looseObject({
    name: z.string().min(1),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  }),
});

const OllamaMessage = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullish(),
  /** Base64 images (no `data:` prefix, as Ollama takes them); a `data:` URL is accepted too. */
  images: z.array(z.string()).nullish(),
  tool_calls: z.array(OllamaToolCall).nullish(),
  /** On a tool message: which call it answers (Ollama names the tool; newer clients give the call's id). */
  tool_name: z.string().optional(),
  tool_call_id: z.string().optional(),
});

/** Tools are OpenAI's function tools in Ollama's API too. */
const OllamaTool = z.looseObject({
  type: z.string().optional(),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const common = {
  model: z.string().min(1).max(256).optional(),
  /** Ollama streams unless told not to. */
  stream: z.boolean().default(true),
  options: OllamaOptions.nullish(),
  /** false hides the model's reasoning; anything else shows it as `thinking`. */
  think: z.union([z.boolean(), z.enum(['low', 'medium', 'high'])]).optional(),
  /** Accepted, not enforced: the gateway's model calls carry no response format (see docs/http-api.md). */
  format: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  keep_alive: z.union([z.string(), z.number()]).optional(),
};

/** `POST /api/chat`. An empty `messages` is Ollama's way of loading a model. */
export const OllamaChatBody = z.looseObject({
  ...common,
  messages: z.array(OllamaMessage).default([]),
  tools: z.array(OllamaTool).nullish(),
});

/** `POST /api/generate`. An empty prompt loads the model, as with Ollama. */
export const OllamaGenerateBody = z.looseObject({
  ...common,
  prompt: z.string().default(''),
  system: z.string().optional(),
  images: z.array(z.string()).nullish(),
});

/** `POST /api/show`: `model`, or `name` as older clients send it. */
export const OllamaShowBody = z.looseObject({ model: z.string().optional(), name: z.string().optional() });

/** `POST /api/embed`: Ollama's embeddings, one text or several. */
export const OllamaEmbedBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
});

export type OllamaOptions = z.infer<typeof OllamaOptions>;
export type OllamaMessage = z.infer<typeof OllamaMessage>;
export type OllamaChatBody = z.infer<typeof OllamaChatBody>;
export type OllamaGenerateBody = z.infer<typeof OllamaGenerateBody>;
export type OllamaEmbedBody = z.infer<typeof OllamaEmbedBody>;
