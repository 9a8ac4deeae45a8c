import { setImmediate as nextTurn } from 'node:timers/promises';
import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import type { JsonLimits } from './json-limits.js';

/** A slice of the text parsed in one turn of the event loop: a few milliseconds of work at most. */
const SLICE_BYTES = 64 * 1024;

/** The text is over one of the JSON limits; the parse stopped there. */
export class JsonOverLimitError extends Error {
  override readonly name = 'JsonOverLimitError';

  constructor(readonly limit: 'depth' | 'nodes') {
    super(`over the JSON ${limit} limit`);
  }
}

const OPENING = new Set([TokenType.LEFT_BRACE, TokenType.LEFT_BRACKET]);
const CLOSING = new Set([TokenType.RIGHT_BRACE, TokenType.RIGHT_BRACKET]);
/** Tokens that are a value or an object key (what JsonLimits.maxNodes counts). */
const NODES = new Set([...OPENING, TokenType.STRING, TokenType.NUMBER, TokenType.TRUE, TokenType.FALSE, TokenType.NULL]);

/**
 * JSON.parse() for a large body, in slices, one per turn of the event loop:
 * a 10 MB body of small objects costs JSON.parse() half a second during
 * which no socket is read; parsed this way, every other session goes on
 * between two slices. Depth and nodes are counted as the tokens go by, and
 * past a limit the parse stops at once (JsonOverLimitError). Throws
 * SyntaxError for text that is not JSON, as JSON.parse() does.
 */
export async function parseInSlices(bytes: Buffer, { maxDepth, maxNodes }: JsonLimits): Promise<unknown> {
  const tokenizer = new Tokenizer();
  const parser = new TokenParser({ paths: ['$'], keepStack: false });
  let depth = 0;
  let nodes = 0;
  let root: { value: unknown } | undefined;
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
  };
  tokenizer.onError = fail;
  parser.onError = fail;
  parser.onValue = ({ value, stack }) => {
    if (stack.length === 0) root = { value };
  };
  tokenizer.onToken = (token) => {
    if (NODES.has(token.token) && ++nodes > maxNodes) throw new JsonOverLimitError('nodes');
    if (OPENING.has(token.token) && ++depth > maxDepth) throw new JsonOverLimitError('depth');
    if (CLOSING.has(token.token)) depth -= 1;
    parser.write(token);
  };
  for (let offset = 0; offset < bytes.length && !failure; offset += SLICE_BYTES) {
    try {
      tokenizer.write(bytes.subarray(offset, offset + SLICE_BYTES));
    } catch (error) {
      fail(error as Error);
    }
    await nextTurn();
  }
  if (!failure && !tokenizer.isEnded) {
    try {
      tokenizer.end();
    } catch (error) {
      fail(error as Error);
    }
  }
  if (failure instanceof JsonOverLimitError) throw failure;
  if (failure || !root) throw new SyntaxError(failure?.message ?? 'no JSON value');
  return root.value;
}
