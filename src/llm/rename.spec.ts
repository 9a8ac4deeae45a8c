import { needsRename, renamedText } from './rename.js';

const rename = { id: 'chatcmpl-gateway', model: 'gpt-4o' };

describe('renamedText', () => {
  it('swaps the top-level id and model in the text as it came, leaving a tool call’s id alone', () => {
    const chunk = {
      id: 'chatcmpl-up',
      object: 'chat.completion.chunk',
      model: 'qwen-plus',
      choices: [
        { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"id":"chatcmpl-up"}' } }] } },
      ],
    };
    const data = JSON.stringify(chunk);
    expect(needsRename(chunk, rename)).toBe(true);
    const text = renamedText(data, chunk, rename);
    expect(JSON.parse(text)).toEqual({ ...chunk, id: rename.id, model: rename.model });
  });

  it('writes a chunk again when the server spaced its JSON', () => {
    const chunk = { id: 'chatcmpl-up', model: 'qwen-plus', choices: [] };
    const text = renamedText(JSON.stringify(chunk, null, 1), chunk, rename);
    expect(JSON.parse(text)).toEqual({ id: rename.id, model: rename.model, choices: [] });
  });

  it('leaves a chunk whose names are already the client’s', () => {
    expect(needsRename({ id: rename.id, model: rename.model }, rename)).toBe(false);
  });
});
