import { z } from 'zod';

/**
 * What the gateway checks of a chat-completions body before passing it on:
 * enough to refuse nonsense with a clear 400. Everything else (tools,
 * response_format…) goes to the provider as the client sent it.
 */
export const ChatCompletionBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  messages: z
    .array(z.looseObject({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']) }))
    .min(1, 'messages must not be empty'),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
});

export type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;

/** `/v1/embeddings`: a model and its input, passed on. */
export const EmbeddingsBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()).min(1), z.array(z.array(z.number())).min(1)]),
});

export type EmbeddingsBody = z.infer<typeof EmbeddingsBody>;
