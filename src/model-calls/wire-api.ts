import type { GatewayError } from '../common/gateway-error.js';
import type { RoundPrompt } from '../llm/usage-meter.js';
import type { LlmEvent, LlmRequest } from '../llm/llm-events.js';
import type { CallOptions } from '../llm/relay-part.js';
import type { ModelRoute } from '../llm/model-router.js';
import type { Observable } from 'rxjs';
import type { ProviderErrorFields as ProviderError } from '../llm/upstream-error.js';

/**
 * What a client API answers with, ready to write: a streamed frame (its
 * exact bytes; empty when it only carries events the client did not ask
 * for), or a whole JSON answer. Each says what it means as events, for the
 * accounting.
 */
export type WirePart =
  { type: 'frame'; data: string; events: readonly LlmEvent[] } | { type: 'whole'; body: object; events: readonly LlmEvent[] };

/** How one client API writes its answers and errors (OpenAI chat, Responses, Anthropic Messages, Ollama, embeddings). */
export interface WireApi {
  /** Its name in usage records, logs and metrics: `openai-chat`, `anthropic-messages`… */
  name: string;
  /** A streamed answer's content type. */
  streamContentType: string;
  /** Written after the last frame of a stream that finished (OpenAI's `data: [DONE]`). */
  streamEnd?: string;
  /** An error answer's body, before anything was sent. */
  errorBody(error: GatewayError, status: number, message: string, provider?: ProviderError): object;
  /** An error written into a stream that has begun; the stream then ends. */
  streamError(error: GatewayError, status: number, message: string, provider?: ProviderError): string;
}

/** One model call over HTTP, as a client API describes it to ModelCalls. */
export interface ModelCall {
  api: WireApi;
  route: ModelRoute;
  /** The gateway's id for it: the answer's `id`, its `x-request-id`. */
  requestId: string;
  streaming: boolean;
  /** The answer, cold: subscribing starts the upstream call with these options, unsubscribing aborts it. */
  parts: (options: CallOptions) => Observable<WirePart>;
  /** Counted with a tokenizer if the provider never reports the usage. */
  prompt: RoundPrompt;
  /** The client's max tokens, to count what a stop saved. */
  limit?: number;
}

/** What a ModelCall takes from its model request: the prompt to count if need be, and the client's max tokens. */
export function accountingOf(request: LlmRequest): Pick<ModelCall, 'prompt' | 'limit'> {
  return {
    prompt: { messages: request.messages, ...(request.tools && { tools: request.tools }) },
    ...(request.params?.maxTokens !== undefined && { limit: request.params.maxTokens }),
  };
}
