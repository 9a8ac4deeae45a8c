import type { JsonSchema, ToolDefinition } from '@agent-gateway/protocol';
import { GatewayError } from '../common/gateway-error.js';
import { zodIssues } from '../common/zod-issues.js';
import type { GenerationParams, LlmMessage, LlmRequest } from '../llm/llm-events.js';
import { inputMessages } from './input-messages.js';
import { FunctionToolBody, type ResponsesBody } from './responses-body.js';

/** A Responses body as a model call, and the function tools it declared (the answer lists them back). */
export interface ResponsesCall {
  request: LlmRequest;
  tools: FunctionToolBody[];
}

/**
 * A Responses body as a model call in the gateway's chat shape: the
 * instructions first, as a system message, then the input. What a chat
 * upstream cannot do (OpenAI's hosted tools, stored conversations, forced
 * tool choice, structured output) is refused with a 400 naming it, rather
 * than ignored into a different answer than the client asked for.
 */
export function responsesCall(body: ResponsesBody, model: string): ResponsesCall {
  refuseUnsupported(body);
  const tools = functionTools(body.tools ?? []);
  const messages: LlmMessage[] = [
    ...(body.instructions ? [{ role: 'system' as const, content: body.instructions }] : []),
    ...inputMessages(body.input),
  ];
  if (messages.length === 0) throw new GatewayError('INVALID_MESSAGE', { message: 'The input holds no message for the model' });
  const offered = body.tool_choice === 'none' ? [] : tools.map(toolDefinition);
  return { request: { messages, model, ...(offered.length > 0 && { tools: offered }), params: generationParams(body) }, tools };
}

function refuseUnsupported(body: ResponsesBody): void {
  const refuse = (message: string) => {
    throw new GatewayError('INVALID_MESSAGE', { message });
  };
  if (body.previous_response_id) {
    refuse('previous_response_id is not supported: the gateway stores no responses; send the whole conversation as input');
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    refuse('conversation is not supported: the gateway stores no conversations; send the whole conversation as input');
  }
  if (body.background === true) refuse('background responses are not supported: the gateway stores no responses');
  const format = body.text?.format?.type;
  if (format !== undefined && format !== 'text') refuse(`text.format of type '${format}' is not supported: only plain text answers`);
  const others = [...new Set((body.tools ?? []).map((tool) => tool.type).filter((type) => type !== 'function'))];
  if (others.length > 0) refuse(`Only function tools are supported; not: ${others.map((type) => `'${type}'`).join(', ')}`);
  const choice = body.tool_choice;
  if (choice === 'required' || (typeof choice === 'object' && choice !== null)) {
    refuse(`tool_choice ${JSON.stringify(choice)} is not supported: only 'auto' and 'none'`);
  }
}

function functionTools(tools: readonly { type: string }[]): FunctionToolBody[] {
  return tools.map((tool, index) => {
    const parsed = FunctionToolBody.safeParse(tool);
    if (!parsed.success) {
      throw new GatewayError('INVALID_MESSAGE', { message: 'Invalid function tool', issues: zodIssues(parsed.error, `tools.${index}`) });
    }
    return parsed.data;
  });
}

/** Chat completions nest a tool under `function`; the Responses API writes it flat. */
function toolDefinition(tool: FunctionToolBody): ToolDefinition {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description && { description: tool.description }),
      ...(tool.parameters && { parameters: tool.parameters as JsonSchema }),
    },
  };
}

function generationParams(body: ResponsesBody): GenerationParams {
  return {
    ...(typeof body.max_output_tokens === 'number' && { maxTokens: body.max_output_tokens }),
    ...(typeof body.temperature === 'number' && { temperature: body.temperature }),
    ...(typeof body.top_p === 'number' && { topP: body.top_p }),
  };
}
