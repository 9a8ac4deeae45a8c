import { OllamaChatBody, OllamaGenerateBody } from './ollama-body.js';
import { imageUrl, ollamaChatRequest, ollamaGenerateRequest, ollamaParams } from './ollama-request.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUg';
const JPEG = '/9j/4AAQSkZJRgABAQ';

describe('ollamaChatRequest', () => {
  it('turns images into data URLs and options into the gateway’s settings', () => {
    const body = OllamaChatBody.parse({
      model: 'llava',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'what is this?', images: [PNG, JPEG] },
      ],
      options: { temperature: 0.2, top_p: 0.9, num_predict: 64, stop: ['\n\n'], num_ctx: 4096 },
    });
    expect(body.stream).toBe(true);
    expect(ollamaChatRequest(body, 'upstream-llava')).toEqual({
      model: 'upstream-llava',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG}` } },
          ],
        },
      ],
      params: { maxTokens: 64, temperature: 0.2, topP: 0.9, stop: ['\n\n'] },
    });
  });

  it('gives Ollama’s tool calls ids and pairs each tool answer with its call, by tool name', () => {
    const body = OllamaChatBody.parse({
      messages: [
        { role: 'user', content: 'weather in Paris and the time?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { function: { name: 'get_weather', arguments: { city: 'Paris' } } },
            { function: { name: 'get_time', arguments: {} } },
          ],
        },
        { role: 'tool', tool_name: 'get_time', content: '12:00' },
        { role: 'tool', content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } } }],
    });
    const request = ollamaChatRequest(body, 'm');
    expect(request.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_1_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1_1', content: '12:00' },
      { role: 'tool', tool_call_id: 'call_1_0', content: 'sunny' },
    ]);
    expect(request.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } } },
    ]);
  });

  it('keeps the ids a newer client sends with its calls and answers', () => {
    const body = OllamaChatBody.parse({
      messages: [
        { role: 'assistant', content: '', tool_calls: [{ id: 'call_a', function: { name: 'f', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'call_a', content: 'done' },
      ],
    });
    expect(ollamaChatRequest(body, 'm').messages).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: 'done' },
    ]);
  });
});

describe('ollamaGenerateRequest', () => {
  it('is the system text and the prompt as one turn', () => {
    const body = OllamaGenerateBody.parse({ prompt: 'why is the sky blue?', system: 'answer in one line', stream: false });
    expect(body.stream).toBe(false);
    expect(ollamaGenerateRequest(body, 'm').messages).toEqual([
      { role: 'system', content: 'answer in one line' },
      { role: 'user', content: 'why is the sky blue?' },
    ]);
  });
});

describe('ollamaParams', () => {
  it('leaves Ollama’s “no limit” values to the provider, and takes one stop word', () => {
    expect(ollamaParams({ num_predict: -1, stop: 'END' })).toEqual({ stop: ['END'] });
    expect(ollamaParams({ num_predict: -2 })).toEqual({});
    expect(ollamaParams(undefined)).toEqual({});
  });
});

describe('imageUrl', () => {
  it('keeps a data URL and tells the type of bare base64 by its first bytes', () => {
    expect(imageUrl('data:image/webp;base64,AAAA')).toBe('data:image/webp;base64,AAAA');
    expect(imageUrl('R0lGODlhAQAB')).toBe('data:image/gif;base64,R0lGODlhAQAB');
    expect(imageUrl('UklGRiQAAABXRUJQ')).toBe('data:image/webp;base64,UklGRiQAAABXRUJQ');
  });
});
