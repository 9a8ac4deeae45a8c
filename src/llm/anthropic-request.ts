import type { ToolDefinition } from '@agent-gateway/protocol';
import { parseToolArguments } from './tool-arguments.js';
import type { ContentPart, LlmMessage, LlmRequest } from './llm-events.js';

/** Anthropic requires `max_tokens`; a client that set none gets this. */
const DEFAULT_MAX_TOKENS = 4096;

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string };

interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

/**
 * A model call in the Messages API's shape: system messages become `system`,
 * tool calls `tool_use` blocks, tool results `tool_result` blocks of a user
 * turn, and consecutive messages of one role one turn (Anthropic wants turns
 * to alternate, and the results of one round together).
 */
export function anthropicBody(request: LlmRequest, model: string): Record<string, unknown> {
  const system = request.messages.flatMap((message) => (message.role === 'system' ? [message.content] : [])).join('\n\n');
  const messages: AnthropicMessage[] = [];
  for (const message of request.messages) {
    if (message.role === 'system') continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = blocksOf(message);
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  const { params, tools } = request;
  return {
    model,
    max_tokens: params?.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(system && { system }),
    messages,
    ...(tools?.length && { tools: tools.map(anthropicTool) }),
    ...(params?.temperature !== undefined && { temperature: params.temperature }),
    ...(params?.topP !== undefined && { top_p: params.topP }),
    ...(params?.stop?.length && { stop_sequences: params.stop }),
    stream: true,
  };
}

function blocksOf(message: Exclude<LlmMessage, { role: 'system' }>): AnthropicBlock[] {
  switch (message.role) {
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: message.content }];
    case 'assistant':
      return [
        ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
        ...(message.tool_calls ?? []).map((call) => ({
          type: 'tool_use' as const,
          id: call.id,
          name: call.function.name,
          input: parseToolArguments(call.function.arguments),
        })),
      ];
    case 'user':
      return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content.map(partBlock);
  }
}

function partBlock(part: ContentPart): AnthropicBlock {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.image_url.url);
  return data
    ? { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } }
    : { type: 'image', source: { type: 'url', url: part.image_url.url } };
}

function anthropicTool(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.function.name,
    ...(tool.function.description && { description: tool.function.description }),
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  };
}
