import type { ServerResponse } from 'node:http';
import { DEFAULT_UPSTREAM_KEY } from './fake-upstream.js';
import { type RecordedCall, RecordingHttpServer } from './recording-http-server.js';

export const FAKE_EMBEDDING_DIMENSIONS = 8;
/** What the fake bills per input, so that tests can check the usage passed on. */
export const FAKE_TOKENS_PER_INPUT = 3;

/**
 * A real local OpenAI `POST /v1/embeddings`: each input's vector made from
 * its position (so tests can tell them apart), as floats or, when asked (the
 * `openai` SDK asks by default), base64 little-endian float32, as OpenAI
 * does. `delayMs` holds the answer back, for abandon tests.
 */
export class FakeEmbeddings extends RecordingHttpServer<RecordedCall> {
  delayMs = 0;

  constructor() {
    super('/v1/embeddings', DEFAULT_UPSTREAM_KEY);
  }

  /** The vector the fake gives the index-th input. */
  static vector(index: number): number[] {
    return Array.from({ length: FAKE_EMBEDDING_DIMENSIONS }, (_, k) => (index + 1) / (k + 1));
  }

  protected recordCall(recorded: RecordedCall): RecordedCall {
    return recorded;
  }

  protected async serve(call: RecordedCall, res: ServerResponse): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs).unref());
    if (res.destroyed) return;
    const { body } = call;
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((_, index) => {
      const vector = FakeEmbeddings.vector(index);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
    });
    const tokens = inputs.length * FAKE_TOKENS_PER_INPUT;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
    call.completed = true;
  }
}
