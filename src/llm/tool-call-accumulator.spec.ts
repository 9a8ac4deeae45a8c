import { ToolCallAccumulator } from './tool-call-accumulator.js';

describe('ToolCallAccumulator', () => {
  it('assembles parallel calls from fragments, in index order', () => {
    const calls = new ToolCallAccumulator();
    calls.observe({ type: 'tool_call', index: 1, id: 'b', name: 'second', arguments: '{"x"' });
    calls.observe({ type: 'tool_call', index: 0, id: 'a', name: 'first', arguments: '' });
    calls.observe({ type: 'tool_call', index: 1, arguments: ':1}' });
    calls.observe({ type: 'text', text: 'ignored' });
    expect(calls.calls()).toEqual([
      { id: 'a', type: 'function', function: { name: 'first', arguments: '' } },
      { id: 'b', type: 'function', function: { name: 'second', arguments: '{"x":1}' } },
    ]);
  });

  it('makes up a missing id and drops nameless fragments', () => {
    const calls = new ToolCallAccumulator();
    calls.observe({ type: 'tool_call', index: 0, name: 'f' });
    calls.observe({ type: 'tool_call', index: 1, arguments: '{}' });
    const [only, ...rest] = calls.calls();
    expect(rest).toEqual([]);
    expect(only.id).toMatch(/^call_[0-9a-f]{24}$/);
  });
});
