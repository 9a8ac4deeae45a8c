import type { ToolCall } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import type { ContentPart as LlmContentPart, LlmMessage } from '../llm/llm-events.js';
import type { ContentPart, InputItem, ResponsesBody } from './responses-body.js';

/**
 * A Responses `input` as chat messages: items become messages in order, a function call joins the assistant message
 * before it (parallel calls are one assistant message with several
 * tool_calls, as chat upstreams require), a function call's output is a
 * `tool` message, and reasoning sent back is left out.
 */
export function inputMessages(input: ResponsesBody['input']): LlmMessage[] {
  const messages: LlmMessage[] = [];
  input.forEach((item, index) => {
    const message = itemMessage(item, `input.${index}`);
    if (message?.role === 'assistant' && message.tool_calls) {
      const last = messages.at(-1);
      if (last?.role === 'assistant') {
        last.tool_calls = [...(last.tool_calls ?? []), ...message.tool_calls];
        return;
      }
    }
    if (message) messages.push(message);
  });
  return messages;
}

function itemMessage(item: InputItem, path: string): LlmMessage | undefined {
  switch (item.type) {
    case 'reasoning':
      return undefined;
    case 'function_call': {
      const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      return { role: 'assistant', content: null, tool_calls: [call] };
    }
    case 'function_call_output':
      return { role: 'tool', tool_call_id: item.call_id, content: textOnly(item.output, `${path}.output`) };
    default:
      if (item.role === 'user') return { role: 'user', content: userContent(item.content) };
      if (item.role === 'assistant') return { role: 'assistant', content: textOnly(item.content, `${path}.content`) };
      return { role: 'system', content: textOnly(item.content, `${path}.content`) };
  }
}

/** A user's content as chat parts; text alone is a plain string, which every upstream takes. */
function userContent(content: ContentPart[]): string | LlmContentPart[] {
  if (content.every((part) => part.type !== 'input_image')) return content.map((part) => part.text).join('\n');
  return content.map((part): LlmContentPart =>
    part.type === 'input_image' ? { type: 'image_url', image_url: { url: part.image_url } } : { type: 'text', text: part.text },
  );
}

/** Where chat messages take only text (system, assistant, tool): the parts' text, joined. */
function textOnly(content: ContentPart[], path: string): string {
  const image = content.findIndex((part) => part.type === 'input_image');
  if (image >= 0) {
    throw new GatewayError('INVALID_MESSAGE', {
      message: 'Images are supported in user messages only',
      issues: [{ path: `${path}.${image}`, message: 'input_image is only supported in a user message' }],
    });
  }
  return content.map((part) => (part.type === 'input_image' ? '' : part.text)).join('\n');
}
