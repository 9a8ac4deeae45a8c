import type { LlmRequest } from '../llm/llm-events.js';
import { MessagesBody } from './messages-body.js';
import { messagesRequest } from './messages-request.js';

const translate = (body: unknown): LlmRequest => messagesRequest(MessagesBody.parse(body), 'upstream-model');

describe('messagesRequest', () => {
  it('puts the system text first and keeps a plain conversation as it is', () => {
    expect(
      translate({
        model: 'claude-x',
        max_tokens: 100,
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'text', text: 'hello' }] },
          { role: 'user', content: [{ type: 'text', text: 'how are you?' }] },
        ],
        temperature: 0.5,
        top_p: 0.9,
        stop_sequences: ['END'],
      }),
    ).toEqual({
      model: 'upstream-model',
      messages: [
        { role: 'system', content: 'Be brief.\n\nBe kind.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'how are you?' },
      ],
      params: { maxTokens: 100, temperature: 0.5, topP: 0.9, stop: ['END'] },
    });
  });

  it('turns tool_use blocks into tool calls and tool_result blocks into tool messages ahead of the turn’s text', () => {
    const request = translate({
      max_tokens: 100,
      tools: [
        { name: 'weather', description: 'The weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        { type: 'web_search_20250305', name: 'web_search' },
      ],
      messages: [
        { role: 'user', content: 'Weather in Oslo and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'two calls', signature: 'x' },
            { type: 'text', text: 'Looking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
            { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Here you go.' },
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'rain' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'sun' },
                { type: 'text', text: '25°' },
              ],
              is_error: false,
            },
          ],
        },
      ],
    });
    expect(request.tools).toEqual([
      {
        type: 'function',
        function: { name: 'weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ]);
    expect(request.messages).toEqual([
      { role: 'user', content: 'Weather in Oslo and Rome?' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'rain' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'sun\n25°' },
      { role: 'user', content: 'Here you go.' },
    ]);
  });

  it('writes images as image_url parts, base64 ones as data URLs', () => {
    const request = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
    expect(request.params).toEqual({});
  });

  it('refuses what is not a Messages body', () => {
    expect(MessagesBody.safeParse({ messages: [] }).success).toBe(false);
    expect(MessagesBody.safeParse({ messages: [{ role: 'system', content: 'x' }] }).success).toBe(false);
    expect(MessagesBody.safeParse({ messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }).success).toBe(false);
    expect(MessagesBody.safeParse({ messages: [{ role: 'user', content: [{ text: 'no type' }] }] }).success).toBe(false);
  });
});
