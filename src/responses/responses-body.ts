import { z } from 'zod';

/** Text as a client writes it in an item: its own (`input_text`) or the model's, sent back (`output_text`). */
const TextPart = z.looseObject({ type: z.enum(['input_text', 'output_text']), text: z.string() });
/** An image by URL or `data:` URL; one by `file_id` needs OpenAI's file store, which the gateway has not. */
const ImagePart = z.looseObject({ type: z.literal('input_image'), image_url: z.string().min(1, 'input_image needs an image_url') });
const ContentPart = z.discriminatedUnion('type', [TextPart, ImagePart]);
export type ContentPart = z.infer<typeof ContentPart>;

/**
 * A string is one text part. (Preprocessed rather than a union: a union
 * reports only "Invalid input" where a part is wrong, not what.)
 */
const Content = z.preprocess(
  (content) => (typeof content === 'string' ? [{ type: 'input_text', text: content }] : content),
  z.array(ContentPart, { error: 'content must be a string or a list of parts' }),
);

const MessageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: Content,
});

const FunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});

const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: Content,
});

/** The model's reasoning sent back: accepted, and left out (a chat upstream takes none). */
const ReasoningItem = z.looseObject({ type: z.literal('reasoning') });

const InputItem = z.discriminatedUnion('type', [MessageItem, FunctionCallItem, FunctionCallOutputItem, ReasoningItem], {
  // Zod's types say only the union's own issue comes here, but an item that is not an object does too: that one keeps zod's words.
  error: (issue) => {
    const { input } = issue;
    const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
    if (type === undefined) return undefined;
    return `Input items of type ${JSON.stringify(type)} are not supported (message, function_call, function_call_output and reasoning are)`;
  },
});
export type InputItem = z.infer<typeof InputItem>;

/**
 * What the gateway checks of a `/v1/responses` body: the fields it
 * translates to a model call, strictly enough to refuse nonsense with a
 * clear 400. Other fields (`store`, `reasoning`, `include`…) are accepted
 * and have no effect; the tools are checked when the call is built.
 */
export const ResponsesBody = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  /** A string is one user message (preprocessed, as Content is). */
  input: z.preprocess(
    (input) => (typeof input === 'string' ? [{ role: 'user', content: input }] : input),
    z.array(InputItem, { error: 'input must be a string or a list of items' }).min(1, 'input must not be empty'),
  ),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })]).nullish(),
  stream: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  text: z.looseObject({ format: z.looseObject({ type: z.string() }).optional() }).nullish(),
});

export type ResponsesBody = z.infer<typeof ResponsesBody>;

/** A function tool as the Responses API declares it: flat, where chat completions nest it under `function`. */
export const FunctionToolBody = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1).max(256),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

export type FunctionToolBody = z.infer<typeof FunctionToolBody>;
