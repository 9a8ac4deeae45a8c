import { chunkEvents, parseChunk } from './chat-completion-chunk.js';

const chunkToEvents = (data: string) => chunkEvents(parseChunk(data));
import { UpstreamError } from './upstream-error.js';

const chunk = (body: object) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', ...body });

describe('chunkEvents', () => {
  it('reads a content delta', () => {
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }))).toEqual([
      { type: 'text', text: 'Hi' },
    ]);
  });

  it('skips the role-only first chunk', () => {
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }))).toEqual([]);
  });

  it('reads reasoning before content (DashScope thinking models)', () => {
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: { content: null, reasoning_content: 'hmm' } }] }))).toEqual([
      { type: 'reasoning', text: 'hmm' },
    ]);
  });

  it('reads finish_reason and the usage chunk, also with choices null (vLLM)', () => {
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }))).toEqual([
      { type: 'finish', reason: 'stop' },
    ]);
    expect(chunkToEvents(chunk({ choices: null, usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } }))).toEqual([
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } },
    ]);
    expect(chunkToEvents(chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } }))).toEqual([
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } },
    ]);
  });

  it('ignores usage: null on ordinary chunks', () => {
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: { content: 'a' } }], usage: null }))).toEqual([{ type: 'text', text: 'a' }]);
  });

  it('rejects garbage and error events as UpstreamErrors', () => {
    const detailOf = (data: string) => {
      try {
        chunkToEvents(data);
      } catch (error) {
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).code).toBe('UPSTREAM_BAD_RESPONSE');
        return (error as UpstreamError).detail;
      }
      throw new Error('expected a throw');
    };
    expect(detailOf('{not json')).toMatch(/not JSON/);
    expect(detailOf('42')).toMatch(/not an object/);
    try {
      chunkToEvents(JSON.stringify({ error: { message: 'overloaded' } }));
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe('UPSTREAM_ERROR');
      expect((error as UpstreamError).detail).toContain('overloaded');
    }
  });
});

describe('chunkToEvents with tool calls', () => {
  it('reads streamed tool-call fragments', () => {
    const first = chunk({
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: null,
            tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_current_time', arguments: '' } }],
          },
        },
      ],
    });
    const next = chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"timezone":' } }] } }] });
    expect(chunkToEvents(first)).toEqual([{ type: 'tool_call', index: 0, id: 'call_1', name: 'get_current_time', arguments: '' }]);
    expect(chunkToEvents(next)).toEqual([{ type: 'tool_call', index: 0, arguments: '{"timezone":' }]);
    expect(chunkToEvents(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }))).toEqual([
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });
});
