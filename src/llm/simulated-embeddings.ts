import { createHash } from 'node:crypto';
import type { RelayBody } from './relay-part.js';
import { countTextTokens } from './token-count.js';

const DIMENSIONS = 256;

/**
 * OpenAI's embeddings answer for the simulated model: each input's vector is
 * drawn from a hash of its words (so texts that share words point alike),
 * normalised to length 1 (a text with no words gets the first axis). As
 * base64 float32 when asked, as OpenAI writes it: the `openai` SDKs ask for
 * that by default and decode it themselves.
 */
export function simulatedEmbeddings(body: RelayBody): {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
} {
  const asText = (input: unknown) => (typeof input === 'string' ? input : JSON.stringify(input ?? ''));
  const inputs = Array.isArray(body.input) ? body.input.map(asText) : [asText(body.input)];
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((text, index) => {
    const vector = vectorOf(text);
    return {
      object: 'embedding' as const,
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    };
  });
  const tokens = inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function vectorOf(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const hash = createHash('sha256').update(word).digest();
    for (let i = 0; i < 8; i++) vector[hash.readUInt16LE(i * 2) % DIMENSIONS] += hash[16 + i] & 1 ? 1 : -1;
  }
  const length = Math.hypot(...vector);
  if (length === 0) vector[0] = 1;
  return length === 0 ? vector : vector.map((value) => value / length);
}
