import { z } from 'zod';

/** A content block: its `type` checked, the rest (cache_control, citations…) passed on as the client wrote it. */
const Block = z.looseObject({ type: z.string().min(1) });

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

/**
 * What the gateway checks of a Messages body before passing it on or
 * translating it: enough to refuse nonsense with a clear 400 in Anthropic's
 * format. Everything else (thinking, metadata, tool_choice…) reaches a
 * native Anthropic upstream as the client sent it.
 */
export const MessagesBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  max_tokens: z.number().int().positive().optional(),
  messages: z
    .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(Block)]) }))
    .min(1, 'messages must not be empty'),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  // Server tools (web search…) have a `type` and no input_schema; only client tools are translated.
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
});

export type MessagesBody = z.infer<typeof MessagesBody>;

/** `/v1/messages/count_tokens`: the same body, without what only a generation needs. */
export const CountTokensBody = MessagesBody.omit({ max_tokens: true, stream: true });

export type CountTokensBody = z.infer<typeof CountTokensBody>;
