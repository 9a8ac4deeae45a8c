import type { ToolDefinition } from '@agent-gateway/protocol';
import type { GenerationParams, LlmMessage, LlmRequest } from '../llm/llm-events.js';
import type { ChatCompletionBody } from './chat-completion-body.js';

/**
 * A chat-completions body as a model call, for an upstream that does not
 * speak OpenAI's format: `developer` messages are system ones, the rest is
 * already the gateway's shape.
 */
export function chatRequest(body: ChatCompletionBody, model: string): LlmRequest {
  const messages = body.messages.flatMap((message): LlmMessage[] => {
    if (message.role === 'developer') return [{ ...message, role: 'system' } as LlmMessage];
    if (message.role === 'function') return [];
    return [message as LlmMessage];
  });
  const tools = Array.isArray(body.tools) ? (body.tools as ToolDefinition[]) : undefined;
  return { messages, model, ...(tools?.length && { tools }), params: chatParams(body) };
}

export function chatParams(body: ChatCompletionBody): GenerationParams {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const stop =
    typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === 'string') : undefined;
  return {
    ...(maxTokens !== undefined && { maxTokens }),
    ...(typeof body.temperature === 'number' && { temperature: body.temperature }),
    ...(typeof body.top_p === 'number' && { topP: body.top_p }),
    ...(stop?.length && { stop }),
  };
}
