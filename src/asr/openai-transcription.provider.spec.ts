import { defer, lastValueFrom, type Observable, of, Subject, throwError, toArray } from 'rxjs';
import {
  expectTranscriptionCutWithin,
  FAKE_TRANSCRIPTION_KEY,
  FakeTranscriptionServer,
} from '../../test/support/fake-transcription-server.js';
import { AsrError, type AsrEvent } from './asr-provider.js';
import { OpenAiTranscriptionProvider, type OpenAiTranscriptionOptions } from './openai-transcription.provider.js';

/** `ms` of 16 kHz s16le: a ramp, so a lost, doubled or swapped byte shows. */
function speech(ms: number, offset = 0): Buffer {
  const bytes = Buffer.allocUnsafe(ms * 32);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (offset + i) % 251;
  return bytes;
}

/** What a subscription saw, in order. */
interface Seen {
  events: AsrEvent[];
  error?: unknown;
  completed: boolean;
}

describe('OpenAiTranscriptionProvider', () => {
  let server: FakeTranscriptionServer;
  let baseUrl: string;
  const providers: OpenAiTranscriptionProvider[] = [];

  const makeProvider = (options: Partial<OpenAiTranscriptionOptions> = {}) => {
    const provider = new OpenAiTranscriptionProvider({
      baseUrl,
      apiKey: FAKE_TRANSCRIPTION_KEY,
      model: 'whisper-test',
      timeoutMs: 2000,
      maxAudioBytes: 1024 * 1024,
      ...options,
    });
    providers.push(provider);
    return provider;
  };
  const transcribe = (audio$: Observable<Buffer>, options: Partial<OpenAiTranscriptionOptions> = {}) =>
    makeProvider(options).transcribe(audio$, { language: 'en' });
  const collect = (events$: Observable<AsrEvent>) => lastValueFrom(events$.pipe(toArray()));
  /** The error the recognition fails with; throws if it completes. */
  const failure = (events$: Observable<AsrEvent>) =>
    lastValueFrom(events$).then(
      () => {
        throw new Error('expected the recognition to fail');
      },
      (error: unknown) => error,
    );
  const watch = (events$: Observable<AsrEvent>) => {
    const seen: Seen = { events: [], completed: false };
    const subscription = events$.subscribe({
      next: (event) => seen.events.push(event),
      error: (error: unknown) => (seen.error = error),
      complete: () => (seen.completed = true),
    });
    return { seen, subscription };
  };

  beforeEach(async () => {
    server = new FakeTranscriptionServer();
    baseUrl = await server.start();
  });

  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.onModuleDestroy()));
    await server.stop();
  });

  it('describes its model', () => {
    expect(makeProvider().descriptor).toEqual({ provider: 'openai', model: 'whisper-test' });
  });

  it('uploads the utterance as one WAV of exactly its audio, with the documented fields, and emits the transcript', async () => {
    server.behavior = { kind: 'answer', text: 'Hello there.' };
    const chunks = [speech(100), speech(100, 3200), speech(35, 6400)];
    const events = await collect(transcribe(of(...chunks)));

    expect(events).toEqual([{ type: 'final', text: 'Hello there.' }]);
    const call = await server.call(0);
    expect(call.uploadError).toBeUndefined();
    expect(call.url).toBe('/v1/audio/transcriptions');
    expect(call.headers.authorization).toBe(`Bearer ${FAKE_TRANSCRIPTION_KEY}`);
    expect(call.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(call.fields).toEqual({ model: 'whisper-test', language: 'en', response_format: 'json' });
    expect(call.fileName).toMatch(/\.wav$/);
    expect(call.fileType).toBe('audio/wav');

    const pcm = Buffer.concat(chunks);
    const wav = call.wav!;
    expect(wav.format).toMatchObject({ audioFormat: 1, channels: 1, sampleRate: 16_000, bitDepth: 16, byteRate: 32_000, blockAlign: 2 });
    expect(wav.pcm.equals(pcm)).toBe(true);
    expect(wav.fileBytes).toBe(44 + pcm.length);
    expect(wav.dataChunkBytes).toBe(pcm.length);
    expect(wav.riffChunkBytes).toBe(wav.fileBytes - 8);
  });

  it('sends the language without its region, and none when it is unknown', async () => {
    const provider = makeProvider();
    await collect(provider.transcribe(of(speech(100)), { language: 'zh-CN' }));
    await collect(provider.transcribe(of(speech(100)), { language: '' }));
    expect(server.calls.map((call) => call.fields.language)).toEqual(['zh', undefined]);
  });

  it('is cold: neither the audio nor the server is touched until it is subscribed', async () => {
    let audioSubscriptions = 0;
    const audio$ = defer(() => {
      audioSubscriptions += 1;
      return of(speech(100));
    });
    const events$ = transcribe(audio$);
    await sleep(50);
    expect(audioSubscriptions).toBe(0);
    expect(server.calls).toHaveLength(0);
    await collect(events$);
    expect(audioSubscriptions).toBe(1);
    expect(server.calls).toHaveLength(1);
  });

  it('keeps the connection of an answered call for the next one', async () => {
    const provider = makeProvider();
    await collect(provider.transcribe(of(speech(100)), { language: 'en' }));
    await sleep(20); // the body has ended; give the socket that moment to return to the pool
    await collect(provider.transcribe(of(speech(100)), { language: 'en' }));
    const [first, second] = server.calls;
    expect(second.remotePort).toBe(first.remotePort);
    expect(first.socketClosedAt).toBeUndefined();
  });

  it('asks for a stream when told to, and turns the deltas into growing partials, then the final', async () => {
    server.behavior = { kind: 'stream', deltas: ['Hel', 'lo', ' there', '.'], text: 'Hello there!' };
    const events = await collect(transcribe(of(speech(200)), { stream: true, model: 'gpt-4o-mini-transcribe' }));

    expect(events).toEqual([
      { type: 'partial', text: 'Hel' },
      { type: 'partial', text: 'Hello' },
      { type: 'partial', text: 'Hello there' },
      { type: 'partial', text: 'Hello there.' },
      { type: 'final', text: 'Hello there!' },
    ]);
    const call = await server.call(0);
    expect(call.fields).toEqual({ model: 'gpt-4o-mini-transcribe', language: 'en', response_format: 'json', stream: 'true' });
    expect(call.completed).toBe(true);
  });

  it('understands a JSON answer from a server that does not stream', async () => {
    server.behavior = { kind: 'answer', text: 'plain' };
    const events = await collect(transcribe(of(speech(100)), { stream: true }));
    expect(events).toEqual([{ type: 'final', text: 'plain' }]);
  });

  it('emits an empty final, without any upload, for an utterance with no audio', async () => {
    const events = await collect(transcribe(of()));
    expect(events).toEqual([{ type: 'final', text: '' }]);
    expect(server.calls).toHaveLength(0);
  });

  it('fails with an AsrError carrying the status of a 401 for a wrong key', async () => {
    const error = await failure(transcribe(of(speech(100)), { apiKey: 'sk-wrong-key-0123456789' }));
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('HTTP 401');
  });

  it('fails with an AsrError carrying the status and the scrubbed body of a 500', async () => {
    server.behavior = { kind: 'status', status: 500, body: `engine on fire, key was ${FAKE_TRANSCRIPTION_KEY}` };
    const error = await failure(transcribe(of(speech(100))));
    expect(error).toBeInstanceOf(AsrError);
    const { detail } = error as AsrError;
    expect(detail).toContain('HTTP 500');
    expect(detail).toContain('engine on fire');
    expect(detail).not.toContain(FAKE_TRANSCRIPTION_KEY);
  });

  it('sends no Authorization header without a key', async () => {
    await failure(transcribe(of(speech(100)), { apiKey: '' }));
    expect((await server.call(0)).headers.authorization).toBeUndefined();
  });

  it('fails with an AsrError when the server cannot be reached', async () => {
    await server.stop();
    const error = await failure(transcribe(of(speech(100))));
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('unreachable');
  });

  it('fails with an AsrError, and reads no more audio, once the utterance is over maxAudioBytes', async () => {
    const audio$ = new Subject<Buffer>();
    const { seen } = watch(transcribe(audio$, { maxAudioBytes: 10_000 }));
    audio$.next(speech(200)); // 6400 bytes
    expect(seen.error).toBeUndefined();
    audio$.next(speech(200)); // 12800
    expect(seen.error).toBeInstanceOf(AsrError);
    expect((seen.error as AsrError).detail).toContain('10000');
    expect(audio$.observed).toBe(false);
    await sleep(50);
    expect(server.calls).toHaveLength(0);
  });

  it('passes an error of the audio on unchanged', async () => {
    const cause = new Error('microphone gone');
    const error = await failure(transcribe(throwError(() => cause)));
    expect(error).toBe(cause);
  });

  it('times out a server slow to answer, counting from the end of the audio, and closes its socket', async () => {
    server.behavior = { kind: 'answer', text: 'late', delayMs: 60_000 };
    const audio$ = new Subject<Buffer>();
    const failed = failure(transcribe(audio$, { timeoutMs: 200 }));
    audio$.next(speech(100));
    await sleep(400); // the audio taking longer than timeoutMs is no timeout
    const endedAt = performance.now();
    audio$.complete();
    const error = await failed;
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toBe('no answer for 200 ms');
    expect(failedAt - endedAt).toBeGreaterThanOrEqual(190);
    expect(failedAt - endedAt).toBeLessThan(2000);
    await expectTranscriptionCutWithin(await server.call(0), failedAt);
  });

  it('times out a stream that goes silent between two events, and closes its socket', async () => {
    server.behavior = { kind: 'stream', deltas: ['one', ' two', ' three'], stallAfterDeltas: 1 };
    const { seen } = watch(transcribe(of(speech(100)), { stream: true, timeoutMs: 300 }));
    const call = await server.call(0);
    await call.uploaded;
    await until(() => seen.error !== undefined);
    const failedAt = performance.now();
    expect(seen.events).toEqual([{ type: 'partial', text: 'one' }]);
    expect((seen.error as AsrError).detail).toBe('no answer for 300 ms');
    await expectTranscriptionCutWithin(call, failedAt);
  });

  it('fails with an AsrError when a JSON answer carries no text', async () => {
    server.behavior = { kind: 'status', status: 200, body: '{"segments":[]}' };
    const error = await failure(transcribe(of(speech(100))));
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('answer has no text');
  });

  it('fails with an AsrError when a stream ends without transcript.text.done', async () => {
    server.behavior = { kind: 'stream', deltas: ['half'], omitDone: true };
    const events: AsrEvent[] = [];
    const error = await new Promise((resolve) =>
      transcribe(of(speech(100)), { stream: true }).subscribe({ next: (event) => events.push(event), error: resolve }),
    );
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('before transcript.text.done');
    expect(events).toEqual([{ type: 'partial', text: 'half' }]);
  });

  describe('teardown', () => {
    it('while the audio streams: stops reading the audio and never calls the server', async () => {
      const audio$ = new Subject<Buffer>();
      const { seen, subscription } = watch(transcribe(audio$));
      audio$.next(speech(100));
      expect(audio$.observed).toBe(true);
      subscription.unsubscribe();
      expect(audio$.observed).toBe(false);
      audio$.next(speech(100));
      audio$.complete();
      await sleep(100);
      expect(server.calls).toHaveLength(0);
      expect(seen).toEqual({ events: [], completed: false });
    });

    it('during the upload: closes the socket mid-upload', async () => {
      // 32 MB read at 32 MB/s: still under way long after the client's
      // buffers and the kernels' (a few MB, which the server reads before it
      // can see the close) are full.
      const audio = speech(1_000_000);
      server.uploadBytesPerMs = 32 * 1024;
      const { seen, subscription } = watch(transcribe(of(audio), { maxAudioBytes: audio.length }));
      const call = await server.call(0);
      await until(() => call.bytesReceived >= 256 * 1024);
      const stoppedAt = performance.now();
      subscription.unsubscribe();
      await expectTranscriptionCutWithin(call, stoppedAt);
      expect(call.uploadComplete).toBe(false);
      expect(call.bytesReceived).toBeLessThan(audio.length);
      await sleep(50);
      expect(seen).toEqual({ events: [], completed: false });
    });

    it('while the server is slow to answer: closes the socket', async () => {
      server.behavior = { kind: 'answer', text: 'late', delayMs: 60_000 };
      const { seen, subscription } = watch(transcribe(of(speech(300))));
      const call = await server.call(0);
      await call.uploaded;
      await sleep(20);
      const stoppedAt = performance.now();
      subscription.unsubscribe();
      await expectTranscriptionCutWithin(call, stoppedAt);
      await sleep(50);
      expect(seen).toEqual({ events: [], completed: false });
    });

    it('while a stream is answering: closes the socket after the partials so far', async () => {
      server.behavior = { kind: 'stream', deltas: Array.from({ length: 100 }, (_, i) => ` w${i}`), intervalMs: 50 };
      const { seen, subscription } = watch(transcribe(of(speech(300)), { stream: true }));
      await until(() => seen.events.length > 0);
      const stoppedAt = performance.now();
      subscription.unsubscribe();
      const call = await server.call(0);
      await expectTranscriptionCutWithin(call, stoppedAt);
      const seenAtStop = seen.events.length;
      await sleep(150);
      expect(seen.events).toHaveLength(seenAtStop);
      expect(seen.events.every((event) => event.type === 'partial')).toBe(true);
      expect(seen.completed).toBe(false);
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition` holds; fails the test if it does not within `ms`. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition still false after ${ms} ms`);
    await sleep(2);
  }
}
