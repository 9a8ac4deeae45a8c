import { GatewayError } from '../common/gateway-error.js';
import { ResponsesBody } from './responses-body.js';
import { responsesCall } from './responses-request.js';

const call = (body: Record<string, unknown>) => responsesCall(ResponsesBody.parse(body), 'upstream-model');
const refusal = (body: Record<string, unknown>): GatewayError => {
  try {
    call(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('responsesCall', () => {
  it('makes a string input one user message, after the instructions as a system message', () => {
    const { request } = call({ model: 'x', input: 'hi', instructions: 'Be brief.', max_output_tokens: 50, temperature: 0.2, top_p: 0.9 });
    expect(request).toEqual({
      model: 'upstream-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      params: { maxTokens: 50, temperature: 0.2, topP: 0.9 },
    });
  });

  it('translates items: roles, parts, images, function calls joined into one assistant message, their outputs as tool messages', () => {
    const { request } = call({
      input: [
        { role: 'developer', content: 'Rules.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'And this:' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        {
          type: 'message',
          role: 'assistant',
          id: 'msg_1',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Checking.', annotations: [] }],
        },
        { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call', call_id: 'call_b', name: 'weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_a', output: '5°C' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '20°C' }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'system', content: 'Rules.' },
      { role: 'user', content: 'Weather?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'And this:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '5°C' },
      { role: 'tool', tool_call_id: 'call_b', content: '20°C' },
    ]);
  });

  it('offers function tools in the chat shape, and none with tool_choice "none"', () => {
    const tools = [{ type: 'function', name: 'weather', description: 'The weather', parameters: { type: 'object' }, strict: true }];
    const offered = call({ input: 'x', tools, tool_choice: 'auto' });
    expect(offered.request.tools).toEqual([
      { type: 'function', function: { name: 'weather', description: 'The weather', parameters: { type: 'object' } } },
    ]);
    expect(offered.tools).toEqual(tools);
    expect(call({ input: 'x', tools, tool_choice: 'none' }).request.tools).toBeUndefined();
  });

  it('refuses what a chat upstream cannot do, naming it', () => {
    const hosted = refusal({ input: 'x', tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }, { type: 'file_search' }] });
    expect(hosted).toMatchObject({
      code: 'INVALID_MESSAGE',
      message: "Only function tools are supported; not: 'web_search', 'file_search'",
    });
    expect(refusal({ input: 'x', previous_response_id: 'resp_1' }).message).toMatch(/^previous_response_id is not supported/);
    expect(refusal({ input: 'x', conversation: 'conv_1' }).message).toMatch(/^conversation is not supported/);
    expect(refusal({ input: 'x', background: true }).message).toMatch(/^background responses are not supported/);
    expect(refusal({ input: 'x', tool_choice: 'required' }).message).toMatch(/^tool_choice "required" is not supported/);
    expect(refusal({ input: 'x', text: { format: { type: 'json_schema' } } }).message).toMatch(/^text.format of type 'json_schema'/);
    expect(refusal({ input: 'x', tools: [{ type: 'function' }] }).issues).toEqual([{ path: 'tools.0.name', message: expect.any(String) }]);
    expect(refusal({ input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }).issues).toEqual([
      { path: 'input.0.content.0', message: 'input_image is only supported in a user message' },
    ]);
    expect(refusal({ input: [{ type: 'reasoning' }] }).message).toBe('The input holds no message for the model');
  });

  it('names an input item type it does not know in the body check', () => {
    const parsed = ResponsesBody.safeParse({ input: [{ type: 'item_reference', id: 'msg_1' }] });
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['input', 0, 'type'],
      message: expect.stringContaining('"item_reference" are not supported'),
    });
  });
});
