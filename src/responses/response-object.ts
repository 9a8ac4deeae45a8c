import type { UsageMeter } from '../llm/usage-meter.js';
import type { FunctionToolBody, ResponsesBody } from './responses-body.js';
import type { FunctionTool, ResponseObject, ResponseUsage } from './response-types.js';

/**
 * A response before the model said anything: what the client asked for,
 * echoed as the API echoes it, under the gateway's id and the client's name
 * of the model.
 */
export function responseShell(body: ResponsesBody, tools: readonly FunctionToolBody[], id: string, model: string): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    model,
    output: [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: null,
    temperature: body.temperature ?? null,
    text: { format: { type: 'text' } },
    tool_choice: body.tool_choice === 'none' ? 'none' : 'auto',
    tools: tools.map(functionTool),
    top_p: body.top_p ?? null,
    truncation: 'disabled',
  };
}

function functionTool(tool: FunctionToolBody): FunctionTool {
  return {
    type: 'function',
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.parameters ?? null,
    strict: tool.strict ?? null,
  };
}

/**
 * The usage in the Responses API's words: the provider's figures, or, when
 * it never sent them, the prompt and what was generated counted with a
 * tokenizer. Chat upstreams report neither cached nor reasoning tokens apart.
 */
export function responseUsage(meter: UsageMeter): ResponseUsage {
  const { prompt_tokens: input, completion_tokens: output, total_tokens: total } = meter.toRecordUsage();
  return {
    input_tokens: input ?? 0,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: total ?? output,
  };
}
