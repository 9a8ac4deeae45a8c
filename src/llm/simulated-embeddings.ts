import { createHash } from 'node:crypto';
import type { RelayBody } from './relay-part.js';
import { countTextTokens } from './token-count.js';

const DIMENSIONS = 256;

/**
 * OpenAI's embeddings answer for the simulated model: each input's vector is
 * drawn from a hash of its words (so texts that share words point alike),
 * normalised to length 1.
 */
export function simulatedEmbeddings(body: RelayBody): {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
} {
  const asText = (input: unknown) => (typeof input === 'string' ? input : JSON.stringify(input ?? ''));
  const inputs = Array.isArray(body.input) ? body.input.map(asText) : [asText(body.input)];
  const data = inputs.map((text, index) => ({ object: 'embedding' as const, index, embedding: vectorOf(text) }));
  const tokens = inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function vectorOf(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const hash = createHash('sha256').update(word).digest();
    for (let i = 0; i < 8; i++) vector[hash.readUInt16LE(i * 2) % DIMENSIONS] += hash[16 + i] & 1 ? 1 : -1;
  }
  const length = Math.hypot(...vector) || 1;
  return vector.map((value) => value / length);
}
