import { z } from 'zod';

/**
 * What the gateway checks of a chat-completions body before passing it on:
 * enough to refuse nonsense with a clear 400. Everything else (temperature,
 * tools, response_format…) goes to the provider as the client sent it.
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
});

export type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;
