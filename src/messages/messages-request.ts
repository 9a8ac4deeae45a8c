import type { JsonSchema, ToolCall, ToolDefinition } from '@agent-gateway/protocol';
import { isObject } from '../llm/upstream-json.js';
import type { ContentPart, GenerationParams, LlmMessage, LlmRequest } from '../llm/llm-events.js';
import type { CountTokensBody, MessagesBody } from './messages-body.js';

type Block = { type: string } & Record<string, unknown>;
type Turn = MessagesBody['messages'][number];

/**
 * A Messages body as a model call, for an upstream that does not speak
 * Anthropic's format: `system` a system message, text and image blocks
 * content parts, an assistant's tool_use blocks its tool_calls, and a user
 * turn's tool_result blocks `tool` messages (ahead of the turn's other
 * blocks: OpenAI wants the results right behind the calls).
 */
export function messagesRequest(body: CountTokensBody & Pick<MessagesBody, 'max_tokens'>, model: string): LlmRequest {
  const system = systemText(body.system);
  const messages: LlmMessage[] = [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    ...body.messages.flatMap(turnMessages),
  ];
  const tools = (body.tools ?? []).flatMap(toolDefinition);
  return { messages, model, ...(tools.length > 0 && { tools }), params: messagesParams(body) };
}

function systemText(system: MessagesBody['system']): string {
  if (system === undefined) return '';
  return typeof system === 'string' ? system : system.map((block) => block.text).join('\n\n');
}

function turnMessages(turn: Turn): LlmMessage[] {
  if (typeof turn.content === 'string') return [{ role: turn.role, content: turn.content }];
  const blocks = turn.content as Block[];
  return turn.role === 'assistant' ? [assistantMessage(blocks)] : userMessages(blocks);
}

/** Its text joined, its tool_use blocks as calls; thinking blocks are the model's own and not sent back. */
function assistantMessage(blocks: Block[]): LlmMessage {
  const text = blocks.flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : [])).join('');
  const calls: ToolCall[] = blocks.flatMap((block) =>
    block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string'
      ? [{ id: block.id, type: 'function' as const, function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } }]
      : [],
  );
  return { role: 'assistant', content: text || null, ...(calls.length > 0 && { tool_calls: calls }) };
}

function userMessages(blocks: Block[]): LlmMessage[] {
  const results: LlmMessage[] = blocks.flatMap((block) =>
    block.type === 'tool_result' && typeof block.tool_use_id === 'string'
      ? [{ role: 'tool' as const, tool_call_id: block.tool_use_id, content: resultText(block.content) }]
      : [],
  );
  const parts = blocks.flatMap(contentPart);
  if (parts.length === 0) return results;
  // One text is sent as a string: not every OpenAI-compatible server takes parts.
  const content = parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts;
  return [...results, { role: 'user', content }];
}

/** A tool result's content: a string, or blocks whose texts are joined (its images have no place in a `tool` message). */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .flatMap((block: unknown) => (isObject(block) && block.type === 'text' && typeof block.text === 'string' ? [block.text] : []))
    .join('\n');
}

function contentPart(block: Block): ContentPart[] {
  if (block.type === 'text' && typeof block.text === 'string') return [{ type: 'text', text: block.text }];
  if (block.type !== 'image' || !isObject(block.source)) return [];
  const { source } = block;
  if (source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return [{ type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } }];
  }
  if (source.type === 'url' && typeof source.url === 'string') return [{ type: 'image_url', image_url: { url: source.url } }];
  return [];
}

/** A client tool as a function; server tools (web search…) have no input_schema and nothing to become. */
function toolDefinition(tool: NonNullable<MessagesBody['tools']>[number]): ToolDefinition[] {
  if (!tool.input_schema) return [];
  return [
    {
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description && { description: tool.description }),
        parameters: tool.input_schema as JsonSchema,
      },
    },
  ];
}

function messagesParams(body: Pick<MessagesBody, 'max_tokens' | 'temperature' | 'top_p' | 'stop_sequences'>): GenerationParams {
  return {
    ...(body.max_tokens !== undefined && { maxTokens: body.max_tokens }),
    ...(body.temperature !== undefined && { temperature: body.temperature }),
    ...(body.top_p !== undefined && { topP: body.top_p }),
    ...(body.stop_sequences?.length && { stop: body.stop_sequences }),
  };
}
