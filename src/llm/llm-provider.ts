import type { Observable } from 'rxjs';
import type { ChatMessage, ToolDefinition } from '@agent-gateway/protocol';
import type { LlmDescriptor, LlmEvent, LlmRequest } from './llm-events.js';
import type { CompletionBody, CompletionPart } from './completion-part.js';
import { synthesizeCompletion } from './completion-synthesis.js';

/**
 * The upstream model. `stream()` returns a cold Observable: nothing is sent
 * before it is subscribed, and unsubscribing tears the call down (aborts the
 * HTTP request, which closes its connection). It errors with an UpstreamError.
 */
export abstract class LlmProvider {
  abstract readonly descriptor: LlmDescriptor;
  abstract stream(request: LlmRequest): Observable<LlmEvent>;

  /**
   * A client's chat-completions body, for the OpenAI-compatible endpoint:
   * cold and torn down like `stream()`. By default the reply is `stream()`'s,
   * written in OpenAI's format; a provider that speaks it passes the body on.
   */
  completion(body: CompletionBody): Observable<CompletionPart> {
    const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
    const tools = Array.isArray(body.tools) ? (body.tools as ToolDefinition[]) : undefined;
    return synthesizeCompletion(this.stream({ messages, ...(tools && { tools }) }), body);
  }
}
