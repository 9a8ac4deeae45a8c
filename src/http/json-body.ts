import type { IncomingMessage } from 'node:http';
import type { ZodType } from 'zod';
import { zodIssues } from '../common/zod-issues.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';
import { JsonOverLimitError, parseInSlices } from '../common/incremental-json.js';
import { overJsonLimits } from '../common/json-limits.js';
import { jsonLimitError } from '../common/json-limit-error.js';

/** Up to this size JSON.parse() takes a few milliseconds at most; past it, the body is parsed in slices. */
const PARSE_IN_SLICES_FROM_BYTES = 64 * 1024;

/**
 * The request's JSON body, read within the size and JSON limits. The gateway reads bodies
 * itself (Nest's parser is off) so that every bad body gets the same
 * OpenAI-style 400/413 as any other error.
 */
export async function readJsonBody(request: IncomingMessage, config: Pick<AppConfig, 'httpApi' | 'json'>): Promise<unknown> {
  const body = await readBody(request, config.httpApi.maxBodyBytes);
  if (body.length === 0) throw new GatewayError('INVALID_JSON', { message: 'The body is empty; send a JSON object' });
  const notJson = () => new GatewayError('INVALID_JSON', { message: 'The body is not valid JSON' });
  // A large one is parsed in slices: other sessions go on meanwhile.
  if (body.length > PARSE_IN_SLICES_FROM_BYTES) {
    return parseInSlices(body, config.json).catch((error: unknown) => {
      throw error instanceof JsonOverLimitError ? jsonLimitError(error.limit, config.json, 'body') : notJson();
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw notJson();
  }
  const over = overJsonLimits(json, config.json);
  if (over) throw jsonLimitError(over, config.json, 'body');
  return json;
}

/** Events rather than an async iterator: the body is usually there already, and every hop counts on the way to the first token. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new GatewayError('PAYLOAD_TOO_LARGE', { message: `The body is larger than ${maxBytes} bytes` }));
        return;
      }
      parts.push(part);
    });
    request.once('end', () => resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts)));
    request.once('error', reject);
  });
}

/** The body, read as readJsonBody does and checked against `schema`; otherwise `400 INVALID_MESSAGE` naming `what` and its issues. */
export async function readBodyAs<T>(
  request: IncomingMessage,
  config: Pick<AppConfig, 'httpApi' | 'json'>,
  schema: ZodType<T>,
  what: string,
): Promise<T> {
  const parsed = schema.safeParse(await readJsonBody(request, config));
  if (!parsed.success) throw new GatewayError('INVALID_MESSAGE', { message: `Invalid ${what} request`, issues: zodIssues(parsed.error) });
  return parsed.data;
}
