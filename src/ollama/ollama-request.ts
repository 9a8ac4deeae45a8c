import type { JsonSchema, ToolCall, ToolDefinition } from '@agent-gateway/protocol';
import type { ContentPart, GenerationParams, LlmMessage, LlmRequest } from '../llm/llm-events.js';
import type { OllamaChatBody, OllamaGenerateBody, OllamaMessage, OllamaOptions } from './ollama-body.js';

/**
 * An Ollama chat as the gateway's model call (OpenAI's chat shape). Ollama's
 * tool calls have no ids and its tool messages name the tool rather than the
 * call, while OpenAI pairs them by id: each call gets an id (its own if the
 * client sent one) and each tool message the id of the earliest unanswered
 * call of its tool (else the earliest unanswered call).
 */
export function ollamaChatRequest(body: OllamaChatBody, model: string): LlmRequest {
  const messages: LlmMessage[] = [];
  let unanswered: ToolCall[] = [];
  for (const [index, message] of body.messages.entries()) {
    if (message.role === 'tool') {
      const answered = pickCall(unanswered, message);
      unanswered = unanswered.filter((call) => call !== answered);
      messages.push({
        role: 'tool',
        tool_call_id: answered?.id ?? message.tool_call_id ?? `call_${index}`,
        content: message.content ?? '',
      });
      continue;
    }
    unanswered = [];
    if (message.role === 'assistant') {
      const calls = (message.tool_calls ?? []).map((call, i): ToolCall => ({
        id: call.id ?? `call_${index}_${i}`,
        type: 'function',
        function: { name: call.function.name, arguments: argumentsText(call.function.arguments) },
      }));
      unanswered = calls;
      messages.push({ role: 'assistant', content: message.content || null, ...(calls.length > 0 && { tool_calls: calls }) });
    } else if (message.role === 'system') {
      messages.push({ role: 'system', content: message.content ?? '' });
    } else {
      messages.push({ role: 'user', content: userContent(message.content ?? '', message.images) });
    }
  }
  const tools = (body.tools ?? []).map((tool): ToolDefinition => ({
    type: 'function',
    function: {
      name: tool.function.name,
      ...(tool.function.description !== undefined && { description: tool.function.description }),
      // Parsed from JSON, so JSON all through.
      ...(tool.function.parameters && { parameters: tool.function.parameters as JsonSchema }),
    },
  }));
  return { messages, model, ...(tools.length > 0 && { tools }), params: ollamaParams(body.options) };
}

/** `/api/generate`: the system text and the prompt (with its images) as a chat of one turn. */
export function ollamaGenerateRequest(body: OllamaGenerateBody, model: string): LlmRequest {
  const messages: LlmMessage[] = [
    ...(body.system ? [{ role: 'system' as const, content: body.system }] : []),
    { role: 'user', content: userContent(body.prompt, body.images) },
  ];
  return { messages, model, params: ollamaParams(body.options) };
}

export function ollamaParams(options: OllamaOptions | null | undefined): GenerationParams {
  if (!options) return {};
  const stop = typeof options.stop === 'string' ? [options.stop] : (options.stop ?? undefined);
  return {
    // Ollama's -1 (no limit) and -2 (fill the context) are the provider's default here.
    ...(typeof options.num_predict === 'number' && options.num_predict > 0 && { maxTokens: options.num_predict }),
    ...(typeof options.temperature === 'number' && { temperature: options.temperature }),
    ...(typeof options.top_p === 'number' && { topP: options.top_p }),
    ...(stop?.length && { stop }),
  };
}

/** A user turn's text, with its images as `image_url` parts when it has some. */
function userContent(text: string, images: readonly string[] | null | undefined): string | ContentPart[] {
  if (!images?.length) return text;
  return [
    ...(text ? [{ type: 'text' as const, text }] : []),
    ...images.map((image): ContentPart => ({ type: 'image_url', image_url: { url: imageUrl(image) } })),
  ];
}

/** Ollama takes bare base64; upstreams want a `data:` URL, whose type the first bytes tell. */
export function imageUrl(image: string): string {
  if (image.startsWith('data:')) return image;
  return `data:${imageType(image)};base64,${image}`;
}

function imageType(base64: string): string {
  if (base64.startsWith('/9j/')) return 'image/jpeg';
  if (base64.startsWith('R0lGOD')) return 'image/gif';
  if (base64.startsWith('UklGR')) return 'image/webp';
  return 'image/png';
}

function argumentsText(args: Record<string, unknown> | string | undefined): string {
  if (args === undefined) return '{}';
  return typeof args === 'string' ? args : JSON.stringify(args);
}

function pickCall(unanswered: readonly ToolCall[], message: OllamaMessage): ToolCall | undefined {
  if (message.tool_call_id) {
    const byId = unanswered.find((call) => call.id === message.tool_call_id);
    if (byId) return byId;
  }
  const byName = message.tool_name ? unanswered.find((call) => call.function.name === message.tool_name) : undefined;
  return byName ?? unanswered[0];
}
