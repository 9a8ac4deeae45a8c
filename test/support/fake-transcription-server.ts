import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Response } from 'undici';
import { type Format as WavFormat, Reader as WavReader } from 'wav';
import { expectClosedWithin } from './expect-cut.js';
import { SocketCloseWatcher } from './socket-close-watcher.js';
import { own } from './test-resources.js';

/**
 * A real local HTTP server speaking OpenAI's `POST /v1/audio/transcriptions`
 * (a multipart upload in, JSON or server-sent events out), which records
 * what it was sent and what happens to each connection. Teardown tests
 * assert on it: the provider closed the socket, and when.
 */
export type TranscriptionBehavior =
  /** Answers `{text}` once the whole upload is in, after `delayMs` (default 0). */
  | { kind: 'answer'; text: string; delayMs?: number }
  /**
   * Answers with server-sent events: one `transcript.text.delta` per delta,
   * `intervalMs` apart (default 2), then `transcript.text.done` with `text`
   * (default: the deltas joined); with `stallAfterDeltas`, says nothing more
   * after that many, until the client goes; with `omitDone`, ends the body
   * without the done event.
   */
  | { kind: 'stream'; deltas: string[]; text?: string; intervalMs?: number; stallAfterDeltas?: number; omitDone?: boolean }
  | { kind: 'status'; status: number; body?: string };

/** The uploaded file, decoded with `wav`'s Reader (an independent check of the client's header). */
interface UploadedWav {
  format: WavFormat;
  /** The audio after the header. */
  pcm: Buffer;
  /** The whole file's length. */
  fileBytes: number;
  /** What the header says: the RIFF chunk's size (file length - 8) and the data chunk's. */
  riffChunkBytes: number;
  dataChunkBytes: number;
}

export interface TranscriptionCall {
  index: number;
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  /** The client's port: two calls with the same one shared a keep-alive connection. */
  remotePort?: number;
  openedAt: number;
  /** Upload bytes read so far. */
  bytesReceived: number;
  /** The whole upload is in; resolves when it is. */
  uploadComplete: boolean;
  uploaded: Promise<void>;
  /** The text fields of the form (model, language, response_format, stream…). */
  fields: Record<string, string>;
  fileName?: string;
  fileType?: string;
  wav?: UploadedWav;
  /** Why the upload could not be read as a form with a WAV file. */
  uploadError?: string;
  /** The response ended normally. */
  completed: boolean;
  /** `performance.now()` when the TCP connection closed; undefined while open. */
  socketClosedAt?: number;
  /** Resolves with `socketClosedAt`. */
  socketClosed: Promise<number>;
}

export const FAKE_TRANSCRIPTION_KEY = 'sk-transcription-test';

const TRANSCRIPTION_PATH = '/v1/audio/transcriptions';

export class FakeTranscriptionServer {
  behavior: TranscriptionBehavior = { kind: 'answer', text: 'hello world' };
  /**
   * Reads uploads at most this fast (default: as fast as they come), so that
   * a large one is still under way when a test cuts it. Throttled rather
   * than stopped: a server that stops reading never sees the client go, as
   * the client's FIN queues behind the bytes the kernels still hold.
   */
  uploadBytesPerMs?: number;
  readonly calls: TranscriptionCall[] = [];
  private server?: Server;
  private readonly watcher = new SocketCloseWatcher();
  private waiters: { index: number; resolve: (call: TranscriptionCall) => void }[] = [];
  private release = (): void => undefined;

  /** Returns the base URL, ending in /v1. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    this.watcher.watch(server);
    this.release = own(() => this.stop());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `${this.origin}/v1`;
  }

  get origin(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.release();
    this.watcher.destroyAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The index-th call (0-based) to reach this server, once it has arrived. */
  call(index: number): Promise<TranscriptionCall> {
    const arrived = this.calls.at(index);
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let markUploaded!: () => void;
    const call: TranscriptionCall = {
      index: this.calls.length,
      method: req.method,
      url: req.url,
      headers: req.headers,
      remotePort: req.socket.remotePort,
      openedAt: performance.now(),
      bytesReceived: 0,
      uploadComplete: false,
      uploaded: new Promise((resolve) => (markUploaded = resolve)),
      fields: {},
      completed: false,
      socketClosed: this.watcher.closed(req.socket),
    };
    // Whoever awaits socketClosed finds socketClosedAt set.
    call.socketClosed = call.socketClosed.then((at) => (call.socketClosedAt = at));
    this.calls.push(call);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.index !== call.index) return true;
      waiter.resolve(call);
      return false;
    });

    // Fixed per call, so a test changing `behavior` mid-way affects only later ones.
    const behavior = this.behavior;
    const upload = await readUpload(req, call, this.uploadBytesPerMs);
    if (!upload) {
      await call.socketClosed;
      return;
    }
    call.uploadComplete = true;
    markUploaded();
    await recordForm(call, upload, req.headers['content-type']);

    if (req.url !== TRANSCRIPTION_PATH || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    if (req.headers.authorization !== `Bearer ${FAKE_TRANSCRIPTION_KEY}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Incorrect API key provided"}}');
      return;
    }
    await respond(behavior, call, res);
  }
}

/** The whole body, read at most `bytesPerMs` fast; undefined if the client went mid-upload. */
function readUpload(req: IncomingMessage, call: TranscriptionCall, bytesPerMs: number | undefined): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => {
      parts.push(part);
      call.bytesReceived += part.length;
      if (bytesPerMs === undefined) return;
      req.pause();
      setTimeout(() => req.resume(), part.length / bytesPerMs).unref();
    });
    req.once('end', () => resolve(Buffer.concat(parts)));
    // After 'end' this changes nothing; before it, the client went mid-upload.
    req.once('close', () => resolve(undefined));
    req.once('error', () => resolve(undefined));
  });
}

/** Parses the multipart body with undici's standard `Response.formData()`. */
async function recordForm(call: TranscriptionCall, upload: Buffer, contentType: string | undefined): Promise<void> {
  try {
    // Deprecated for servers that parse untrusted uploads; this one parses the tests' own, and
    // busboy is only here as multer's dependency, without types.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const form = await new Response(upload, { headers: { 'content-type': contentType ?? '' } }).formData();
    for (const [name, value] of form) {
      if (typeof value === 'string') {
        call.fields[name] = value;
      } else if (name === 'file') {
        call.fileName = value.name;
        call.fileType = value.type;
        call.wav = await decodeWav(Buffer.from(await value.arrayBuffer()));
      }
    }
  } catch (error) {
    call.uploadError = String(error);
  }
}

function decodeWav(file: Buffer): Promise<UploadedWav> {
  return new Promise((resolve, reject) => {
    const reader = new WavReader();
    const pcm: Buffer[] = [];
    let format: WavFormat | undefined;
    reader.once('format', (value: WavFormat) => (format = value));
    reader.on('data', (chunk: Buffer) => pcm.push(chunk));
    reader.once('error', reject);
    reader.once('end', () => {
      if (!format) {
        reject(new Error('no WAV format chunk'));
        return;
      }
      // The two sizes the Reader trusts without checking, read where RIFF puts them for a 44-byte PCM header.
      resolve({
        format,
        pcm: Buffer.concat(pcm),
        fileBytes: file.length,
        riffChunkBytes: file.readUInt32LE(4),
        dataChunkBytes: file.readUInt32LE(40),
      });
    });
    reader.end(file);
  });
}

async function respond(behavior: TranscriptionBehavior, call: TranscriptionCall, res: ServerResponse): Promise<void> {
  switch (behavior.kind) {
    case 'status':
      res
        .writeHead(behavior.status, { 'content-type': 'application/json' })
        .end(behavior.body ?? JSON.stringify({ error: { message: `status ${behavior.status}`, type: 'test' } }));
      call.completed = true;
      return;
    case 'answer':
      if (behavior.delayMs) await sleepUnlessClosed(behavior.delayMs, res);
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: behavior.text }));
      call.completed = true;
      return;
    case 'stream':
      await stream(behavior, call, res);
      return;
  }
}

async function stream(
  behavior: Extract<TranscriptionBehavior, { kind: 'stream' }>,
  call: TranscriptionCall,
  res: ServerResponse,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const send = (event: Record<string, unknown> & { type: string }) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  for (const [index, delta] of behavior.deltas.entries()) {
    if (index === behavior.stallAfterDeltas) {
      await call.socketClosed;
      return;
    }
    await sleepUnlessClosed(behavior.intervalMs ?? 2, res);
    if (res.destroyed) return;
    send({ type: 'transcript.text.delta', delta });
  }
  await sleepUnlessClosed(behavior.intervalMs ?? 2, res);
  if (res.destroyed) return;
  if (!behavior.omitDone) send({ type: 'transcript.text.done', text: behavior.text ?? behavior.deltas.join('') });
  res.end();
  call.completed = true;
}

/** Unref'd, and cut short by the client going: a waiting response must not keep the test process alive after stop(). */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms).unref();
    res.once('close', done);
  });
}

/** Asserts that the provider cut this call before it was answered (see expectClosedWithin). */
export function expectTranscriptionCutWithin(call: TranscriptionCall, since: number, withinMs = 1000): Promise<number> {
  return expectClosedWithin(
    { label: `transcription call ${call.index}`, socketClosed: call.socketClosed, ranToEnd: () => call.completed },
    since,
    withinMs,
  );
}
