/**
 * The HTTP floor: the smallest proxy that does the same work as the gateway's
 * /v1/chat/completions — read the body, POST it upstream with undici, pipe the
 * answer back, abort the upstream when the client goes. No framework, no
 * validation, no accounting, no logs. Both of its sockets write at once
 * (Node's server and undici turn Nagle's algorithm off), and undici keeps its
 * upstream connections alive, so nothing it does delays a chunk.
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
    // pipe(), not a for-await loop: no promise per chunk.
    answer.body.pipe(res);
  } catch {
    res.destroy();
  }
}

createServer((req, res) => void relay(req, res)).listen(Number(process.env.PORT ?? 8200), '127.0.0.1');
