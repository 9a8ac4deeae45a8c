/**
 * The floor: the smallest gateway that does the same work as ours — `ws`,
 * `fetch` and `eventsource-parser`, one AbortController per request, no
 * framework, no validation, no logs. With TTS_BASE_URL set it also speaks:
 * sentences cut with a regular expression, each POSTed to the speech server in
 * turn, the audio forwarded as base64 as it arrives. The benchmark reports our
 * figures as ratios to this one, measured in the same run.
 *
 * With REDIS_URL set, several floors stop each other's requests: an
 * INTERRUPT for a request this process does not run is published to the
 * others, whichever runs it aborts it and answers, then the ACK goes out —
 * the least a cross-instance stop takes (one pub/sub round trip).
 *
 *   PORT=8100 LLM_BASE_URL=http://127.0.0.1:9000/v1 node --import tsx bench/floor-gateway.ts
 */
import { randomUUID } from 'node:crypto';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 8100);
const upstream = `${process.env.LLM_BASE_URL}/chat/completions`;
const upstreamKey = process.env.LLM_API_KEY ?? '';
const speechUrl = process.env.TTS_BASE_URL ? `${process.env.TTS_BASE_URL}/audio/speech` : undefined;
const speechKey = process.env.TTS_API_KEY ?? '';
const SENTENCE = /^[^.!?。！？]*[.!?。！？]+\s+/;

interface ClientMessage {
  msg_type: string;
  payload: {
    request_id?: string;
    content?: { text?: string };
    interrupt_request_id?: string;
    require_tts?: boolean;
  };
}

/** A request in flight: `abort` stops it and forgets it, `end` sends its interrupted end frame. */
interface Running {
  abort: () => void;
  end: () => void;
}
/** With REDIS_URL: every request this process runs, by id, for stops from other floors. */
const running = new Map<string, Running>();
const cluster = process.env.REDIS_URL ? await floorCluster(process.env.REDIS_URL, process.env.REDIS_KEY_PREFIX ?? 'floor:') : undefined;

async function floorCluster(url: string, prefix: string) {
  const [pub, sub] = [new Redis(url), new Redis(url)];
  const me = randomUUID();
  const replies = new Map<string, (stopped: string[]) => void>();
  await sub.subscribe(`${prefix}stop`, `${prefix}reply:${me}`);
  sub.on('message', (channel, message) => {
    const { id, ids, from, stopped } = JSON.parse(message) as { id: string; ids?: string[]; from?: string; stopped?: string[] };
    if (channel === `${prefix}stop`) {
      const here = ids!.filter((requestId) => running.has(requestId));
      if (here.length === 0) return;
      for (const requestId of here) {
        const stop = running.get(requestId)!;
        stop.abort();
        stop.end();
      }
      void pub.publish(`${prefix}reply:${from!}`, JSON.stringify({ id, stopped: here }));
    } else replies.get(id)?.(stopped!);
  });
  return {
    stop: (ids: string[]) =>
      new Promise<string[]>((resolve) => {
        const id = randomUUID();
        const done = (stopped: string[]) => {
          replies.delete(id);
          clearTimeout(timer);
          resolve(stopped);
        };
        const timer = setTimeout(() => done([]), 2000);
        replies.set(id, done);
        void pub.publish(`${prefix}stop`, JSON.stringify({ id, ids, from: me }));
      }),
  };
}

const server = new WebSocketServer({ port, host: '127.0.0.1', path: '/ws/agent', maxPayload: 64 * 1024 });

server.on('connection', (ws: WebSocket) => {
  const sessionId = `sess_${randomUUID()}`;
  const active = new Map<string, Running>();
  let speakByDefault = false;
  const send = (msgType: string, payload: unknown) =>
    ws.send(JSON.stringify({ version: '1.0', msg_type: msgType, session_id: sessionId, payload, timestamp: Date.now() }));
  const end = (requestId: string, interrupted: boolean) =>
    send('RESPONSE', { request_id: requestId, text_stream_seq: -1, voice_stream_seq: -1, content: {}, interrupted });

  const speak = async (requestId: string, sentences: AsyncIterable<string>, signal: AbortSignal) => {
    let seq = 0;
    for await (const sentence of sentences) {
      const response = await fetch(speechUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${speechKey}` },
        body: JSON.stringify({ model: 'tts', input: sentence, voice: 'alloy', response_format: 'pcm', stream_format: 'audio' }),
        signal,
      });
      for await (const audio of response.body!) {
        send('RESPONSE', { request_id: requestId, voice_stream_seq: seq++, content: { audio: Buffer.from(audio).toString('base64') } });
      }
    }
  };

  const run = async (requestId: string, text: string, withSpeech: boolean) => {
    const abort = new AbortController();
    const entry: Running = {
      abort: () => {
        abort.abort();
        active.delete(requestId);
        running.delete(requestId);
      },
      end: () => end(requestId, true),
    };
    active.set(requestId, entry);
    if (cluster) running.set(requestId, entry);
    const sentences: string[] = [];
    let wake: (() => void) | undefined;
    let textDone = false;
    const queue = async function* () {
      for (;;) {
        if (sentences.length > 0) yield sentences.shift()!;
        else if (textDone) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    // Caught here: when an interrupt aborts both, the text side throws first and nobody awaits this one.
    const speaking = withSpeech ? speak(requestId, queue(), abort.signal).catch(() => undefined) : Promise.resolve();
    try {
      const response = await fetch(upstream, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${upstreamKey}` },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }], stream: true }),
        signal: abort.signal,
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
      let seq = 0;
      let pending = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done || value.data === '[DONE]') break;
        const content = (JSON.parse(value.data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
        if (!content) continue;
        send('RESPONSE', { request_id: requestId, text_stream_seq: seq++, content: { text: content } });
        pending += content;
        for (let match = SENTENCE.exec(pending); match; match = SENTENCE.exec(pending)) {
          sentences.push(match[0].trim());
          pending = pending.slice(match[0].length);
          wake?.();
        }
      }
      if (pending.trim()) sentences.push(pending.trim());
      textDone = true;
      wake?.();
      await speaking;
      end(requestId, false);
    } catch {
      // Aborted by an interrupt, which already sent the end frame.
    } finally {
      if (active.get(requestId) === entry) active.delete(requestId);
      if (running.get(requestId) === entry) running.delete(requestId);
    }
  };

  ws.on('message', (data) => {
    let message: ClientMessage;
    try {
      message = JSON.parse((data as Buffer).toString()) as ClientMessage;
    } catch {
      // The least a server owes a client that sent garbage: one answer, and no crash.
      send('ERROR', { code: 'INVALID_JSON' });
      return;
    }
    const { msg_type: type, payload } = message;
    if (type === 'REGISTER') {
      speakByDefault = payload.require_tts === true && speechUrl !== undefined;
      send('REGISTER_ACK', { session_id: sessionId });
    } else if (type === 'REQUEST') void run(payload.request_id!, payload.content!.text!, payload.require_tts ?? speakByDefault);
    else if (type === 'HEARTBEAT') send('HEARTBEAT', { server_time: Date.now() });
    else if (type === 'INTERRUPT') {
      const ids = payload.interrupt_request_id ? [payload.interrupt_request_id] : [...active.keys()];
      // Only this connection's own requests are stopped here (ids are per session).
      const here = ids.filter((id) => active.has(id));
      const elsewhere = ids.filter((id) => !active.has(id));
      const stops = here.map((id) => active.get(id)!);
      for (const stop of stops) stop.abort();
      const ack = (stopped: string[]) => {
        send('INTERRUPT_ACK', { interrupted_request_ids: stopped, status: stopped.length ? 'SUCCESS' : 'NOT_FOUND' });
        for (const stop of stops) stop.end();
      };
      // Only a stop that must cross to another floor waits for it.
      if (cluster && elsewhere.length > 0) void cluster.stop(elsewhere).then((remote) => ack([...here, ...remote]));
      else ack(here);
    }
  });
  ws.on('close', () => {
    for (const request of active.values()) request.abort();
  });
});

server.on('listening', () => process.stdout.write(`floor listening on ${port}\n`));
