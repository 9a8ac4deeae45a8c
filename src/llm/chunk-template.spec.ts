import fc from 'fast-check';
import { chunkEvents, parseChunk } from './chat-completion-chunk.js';
import { ChunkTemplate } from './chunk-template.js';
import { needsRename, renamedText } from './rename.js';

const rename = { id: 'chatcmpl-gateway', model: 'client-model' };

/** What the decoder made of a chunk before templates: parsed, its events read, renamed. */
function parsed(data: string) {
  const chunk = parseChunk(data);
  const events = chunkEvents(chunk);
  return { data: needsRename(chunk, rename) ? renamedText(data, chunk, rename) : data, events };
}

const contentChunk = (content: unknown, extra: object = {}, delta: object = {}) =>
  JSON.stringify({
    id: 'chatcmpl-up',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up-model',
    choices: [{ index: 0, delta: { content, ...delta }, finish_reason: null, ...extra }],
  });

function learnt(data: string): ChunkTemplate {
  const template = new ChunkTemplate();
  const first = parsed(data);
  template.learn(data, first.data, first.events);
  return template;
}

describe('ChunkTemplate', () => {
  it('passes on a chunk like the last with only its content read, renamed as the parse would have', () => {
    const template = learnt(contentChunk('Hello'));
    const next = contentChunk(' wor\\ld "quoted" é\n');
    const fitted = template.match(next);
    expect(fitted).toBeDefined();
    expect(fitted!.events).toEqual([{ type: 'text', text: ' wor\\ld "quoted" é\n' }]);
    expect(JSON.parse(fitted!.data)).toEqual(JSON.parse(parsed(next).data));
  });

  it('leaves to the parse whatever differs around the content: a finish, a usage, another created', () => {
    const template = learnt(contentChunk('Hello'));
    expect(template.match(contentChunk('x', { finish_reason: 'stop' }))).toBeUndefined();
    expect(template.match(contentChunk('x').replace('"created":1', '"created":2'))).toBeUndefined();
    expect(template.match(JSON.stringify({ id: 'chatcmpl-up', choices: [], usage: { prompt_tokens: 1 } }))).toBeUndefined();
  });

  it('never takes two values, or a value that is not one string, for the content', () => {
    const template = learnt(contentChunk('Hello'));
    const prefix = contentChunk('Hello').split('"Hello"')[0];
    const suffix = contentChunk('Hello').split('"Hello"')[1];
    for (const middle of ['"a","reasoning":"b"', '"a" "b"', '"unterminated', '"raw\ncontrol"', 'null', '1', '"a\\"']) {
      expect(template.match(prefix + middle + suffix)).toBeUndefined();
    }
  });

  it('learns nothing from a chunk that carries more than content, or writes it otherwise', () => {
    const withFinish = contentChunk('x', { finish_reason: 'stop' });
    expect(learnt(withFinish).match(contentChunk('y', { finish_reason: 'stop' }))).toBeUndefined();
    const escaped = contentChunk('é').replace('é', '\\u00e9');
    expect(learnt(escaped).match(escaped)).toBeUndefined();
  });

  it('gives what the parse gives for any chunk, whatever came before', () => {
    const content = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\\"', '\n', '"content":"x"'));
    const chunk = fc.oneof(
      content.map((text) => contentChunk(text)),
      content.map((text) => contentChunk(text, { finish_reason: 'stop' })),
      fc.tuple(content, content).map(([text, reasoning]) => contentChunk(text, {}, { reasoning })),
      content.map((text) => contentChunk(text, { logprobs: null })),
    );
    let fits = 0;
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 8 }), (chunks) => {
        const template = new ChunkTemplate();
        for (const data of chunks) {
          const expected = parsed(data);
          const fitted = template.match(data);
          if (fitted) {
            fits += 1;
            expect(fitted.events).toEqual(expected.events);
            expect(JSON.parse(fitted.data)).toEqual(JSON.parse(expected.data));
          } else {
            template.learn(data, expected.data, expected.events);
          }
        }
      }),
      { numRuns: 500 },
    );
    // The property says something only if chunks did go through templates.
    expect(fits).toBeGreaterThan(100);
  });
});
