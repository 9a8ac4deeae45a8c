import type { ToolCall } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import type { ContentPart as LlmContentPart, LlmMessage } from '../llm/llm-events.js';
import type { ContentPart, InputItem, ResponsesBody } from './responses-body.js';

/**
 * A Responses `input` as chat messages: a string is one user message; items
 * become messages in order, a function call joins the assistant message
 * before it (parallel calls are one assistant message with several
 * tool_calls, as chat upstreams require), a function call's output is a
 * `tool` message, and reasoning sent back is left out.
 */
export function inputMessages(input: ResponsesBody['input']): LlmMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
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

/** A user's content as chat parts; one piece of text stays a plain string, which every upstream takes. */
function userContent(content: string | ContentPart[]): string | LlmContentPart[] {
  if (typeof content === 'string') return content;
  if (content.length === 1 && content[0].type !== 'input_image') return content[0].text;
  return content.map((part): LlmContentPart => (part.type === 'input_image' ? { type: 'image_url', image_url: { url: part.image_url } } : { type: 'text', text: part.text }));
}

/** Where chat messages take only text (system, assistant, tool): the parts' text, joined. */
function textOnly(content: string | ContentPart[], path: string): string {
  if (typeof content === 'string') return content;
  const image = content.findIndex((part) => part.type === 'input_image');
  if (image >= 0) {
    throw new GatewayError('INVALID_MESSAGE', {
      message: 'Images are supported in user messages only',
      issues: [{ path: `${path}.${image}`, message: 'input_image is only supported in a user message' }],
    });
  }
  return content.map((part) => (part.type === 'input_image' ? '' : part.text)).join('\n');
}
