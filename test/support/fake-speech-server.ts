import type { ServerResponse } from 'node:http';
import { expectClosedWithin } from './expect-cut.js';
import { type RecordedCall, RecordingHttpServer } from './recording-http-server.js';

/**
 * A real local HTTP server speaking OpenAI's `POST /v1/audio/speech` with a
 * streamed body, which records what happens to each connection. Interrupt
 * tests assert on it: the provider closed the socket, and when.
 */
export type SpeechBehavior =
  | {
      kind: 'speak';
      /** Audio bytes per input character (default 480: 10 ms of 24 kHz PCM16). */
      bytesPerChar?: number;
      /** Size of each write (default 4800: 100 ms of 24 kHz PCM16). */
      chunkBytes?: number;
      /** Pause between writes (default 2). */
      intervalMs?: number;
      /** Delay between the headers and the first audio byte. */
      firstByteDelayMs?: number;
    }
  | { kind: 'status'; status: number; body?: string }
  /** Streams `afterBytes` bytes of audio, then destroys the socket without ending the response. */
  | { kind: 'drop'; afterBytes: number }
  /** Streams `afterBytes` bytes of audio, then says nothing more, leaving the response open until the client goes. */
  | { kind: 'stall'; afterBytes: number };

export interface SpeechCall extends RecordedCall {
  /** Audio bytes handed to the socket so far. */
  bytesWritten: number;
}

export const FAKE_SPEECH_KEY = 'sk-speech-test';

const DEFAULT_BYTES_PER_CHAR = 480;
const DEFAULT_CHUNK_BYTES = 4800;

export class FakeSpeechServer extends RecordingHttpServer<SpeechCall> {
  behavior: SpeechBehavior = { kind: 'speak' };

  constructor() {
    super('/v1/audio/speech', FAKE_SPEECH_KEY);
  }

  protected recordCall(recorded: RecordedCall): SpeechCall {
    return Object.assign(recorded, { bytesWritten: 0 });
  }

  protected serve(call: SpeechCall, res: ServerResponse): Promise<void> {
    return this.respond(this.behavior, call, res);
  }

  private async respond(behavior: SpeechBehavior, call: SpeechCall, res: ServerResponse): Promise<void> {
    const { body } = call;
    if (behavior.kind === 'status') {
      res
        .writeHead(behavior.status, { 'content-type': 'application/json' })
        .end(behavior.body ?? JSON.stringify({ error: { message: `status ${behavior.status}`, type: 'test' } }));
      call.completed = true;
      return;
    }
    const speak = behavior.kind === 'speak' ? behavior : undefined;
    const input = typeof body.input === 'string' ? body.input : '';
    const total = behavior.kind === 'speak' ? input.length * (behavior.bytesPerChar ?? DEFAULT_BYTES_PER_CHAR) : behavior.afterBytes;
    const chunkBytes = speak?.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const interval = speak?.intervalMs ?? 2;

    // No content-length: the body is chunked, as a real streaming server's is.
    res.writeHead(200, { 'content-type': 'audio/pcm' });
    res.flushHeaders();
    if (speak?.firstByteDelayMs) await sleep(speak.firstByteDelayMs);

    while (call.bytesWritten < total) {
      if (res.destroyed) return;
      const size = Math.min(chunkBytes, total - call.bytesWritten);
      const flushed = res.write(speechPattern(call.bytesWritten, size));
      call.bytesWritten += size;
      // Honour backpressure like a real server would: a paused client slows us down.
      if (!flushed) await drained(res);
      await sleep(interval);
    }
    if (res.destroyed) return;
    if (behavior.kind === 'drop') {
      res.socket?.destroy();
      return;
    }
    if (behavior.kind === 'stall') {
      await new Promise((resolve) => res.once('close', resolve));
      return;
    }
    res.end();
    call.completed = true;
  }
}

/** Bytes `offset`…`offset + length` of the audio every call streams: byte i is i % 251. */
function speechPattern(offset: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (offset + i) % 251;
  return bytes;
}

/** The whole audio a `speak` call streams for `text`. */
export function expectedSpeech(text: string, bytesPerChar = DEFAULT_BYTES_PER_CHAR): Buffer {
  return speechPattern(0, text.length * bytesPerChar);
}

/** Asserts that the provider cut this call while the audio was unfinished (see expectClosedWithin). */
export function expectSpeechCutWithin(call: SpeechCall, since: number, withinMs = 1000): Promise<number> {
  return expectClosedWithin(
    { label: `speech call ${call.index}`, socketClosed: call.socketClosed, ranToEnd: () => call.completed },
    since,
    withinMs,
  );
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Unref'd: a response still sleeping must not keep the test process alive after stop(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
