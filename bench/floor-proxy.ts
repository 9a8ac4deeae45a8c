/**
 * The HTTP floor: the smallest proxy that does the same work as the gateway's
 * /v1/chat/completions — read the body, POST it upstream with undici, pipe the
 * answer back, abort the upstream when the client goes. No framework, no
 * validation, no accounting, no logs.
 *
 *   PORT=8200 LLM_BASE_URL=http://127.0.0.1:9000/v1 LLM_API_KEY=… node --import tsx bench/floor-proxy.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'undici';

const upstream = `${process.env.LLM_BASE_URL}/chat/completions`;
const authorization = `Bearer ${process.env.LLM_API_KEY ?? ''}`;

async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const answer = await request(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: Buffer.concat(parts),
      signal: abort.signal,
    });
    res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'text/event-stream') });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch {
    res.destroy();
  }
}

createServer((req, res) => void relay(req, res)).listen(Number(process.env.PORT ?? 8200), '127.0.0.1');
