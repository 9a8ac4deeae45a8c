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
    if (message.role === 'function') return [];
    const role = message.role === 'developer' ? 'system' : message.role;
    // Only a user turn keeps its parts (images); any other role's parts are its text.
    const content = role !== 'user' && Array.isArray(message.content) ? textOfParts(message.content) : message.content;
    return [{ ...message, role, content } as LlmMessage];
  });
  const tools = Array.isArray(body.tools) ? (body.tools as ToolDefinition[]) : undefined;
  return { messages, model, ...(tools?.length && { tools }), params: chatParams(body) };
}

function chatParams(body: ChatCompletionBody): GenerationParams {
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

function textOfParts(parts: unknown[]): string {
  return parts
    .map((part) =>
      typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}
