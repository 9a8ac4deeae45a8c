import { ollamaEmbedAnswer } from './ollama-embed.js';
import { modelEntry } from './ollama-models.js';

describe('ollamaEmbedAnswer', () => {
  it('lists the vectors in input order, with the usage as the prompt count', () => {
    const answer = ollamaEmbedAnswer(
      {
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: [0, 1] },
          { object: 'embedding', index: 0, embedding: [1, 0] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      },
      'nomic-embed-text',
      performance.now(),
    );
    expect(answer).toMatchObject({
      model: 'nomic-embed-text',
      embeddings: [
        [1, 0],
        [0, 1],
      ],
      load_duration: 0,
      prompt_eval_count: 4,
    });
  });
});

describe('modelEntry', () => {
  it('names the family after the model, without its tag or owner', () => {
    expect(modelEntry('llama3:8b').details.family).toBe('llama3');
    expect(modelEntry('org/qwen2.5:7b').details.family).toBe('qwen2.5');
    expect(modelEntry('gpt-4o').details.family).toBe('gpt-4o');
    expect(modelEntry('gpt-4o').digest).toBe(modelEntry('gpt-4o').digest);
  });
});
