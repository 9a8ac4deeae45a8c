import { BehaviorSubject, firstValueFrom, lastValueFrom, type Observable, toArray } from 'rxjs';
import { expectedSpeech, expectSpeechCutWithin, FAKE_SPEECH_KEY, FakeSpeechServer } from '../../test/support/fake-speech-server.js';
import { OpenAiSpeechProvider, type OpenAiSpeechOptions } from './openai-speech.provider.js';
import { type FlowControl, TtsError } from './tts-provider.js';

describe('OpenAiSpeechProvider', () => {
  let server: FakeSpeechServer;
  let baseUrl: string;
  const providers: OpenAiSpeechProvider[] = [];
  const request = { text: 'Hello there, this is a test sentence.', language: 'en' };
  /** Long enough (960 KB in 200 writes) to still be streaming when a test cuts it. */
  const longRequest = { text: 'x'.repeat(2000), language: 'en' };

  const makeProvider = (options: Partial<OpenAiSpeechOptions> = {}) => {
    const provider = new OpenAiSpeechProvider({
      baseUrl,
      apiKey: FAKE_SPEECH_KEY,
      model: 'tts-test',
      voice: 'alloy',
      format: 'pcm',
      sampleRate: 24_000,
      timeoutMs: 2000,
      ...options,
    });
    providers.push(provider);
    return provider;
  };
  const flowing = (): FlowControl => ({ paused$: new BehaviorSubject(false) });
  const collect = async (audio$: Observable<Buffer>) => Buffer.concat(await lastValueFrom(audio$.pipe(toArray())));
  /** The error the stream fails with; undefined if it completes. */
  const failure = (audio$: Observable<Buffer>) =>
    lastValueFrom(audio$).then(
      () => undefined,
      (error: unknown) => error,
    );
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeEach(async () => {
    server = new FakeSpeechServer();
    baseUrl = await server.start();
  });

  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.onModuleDestroy()));
    await server.stop();
  });

  it('describes its audio format', () => {
    expect(makeProvider().descriptor).toEqual({
      provider: 'openai',
      voice: 'alloy',
      format: { codec: 'pcm_s16le', sample_rate: 24_000, channels: 1 },
    });
    expect(makeProvider({ format: 'mp3', sampleRate: 44_100 }).descriptor.format).toEqual({
      codec: 'mp3',
      sample_rate: 44_100,
      channels: 1,
    });
  });

  it('streams the whole audio intact and in order, from the documented request', async () => {
    const audio = await collect(makeProvider().synthesize(request, flowing()));
    expect(audio.equals(expectedSpeech(request.text))).toBe(true);
    const call = await server.call(0);
    expect(call.body).toEqual({
      model: 'tts-test',
      input: request.text,
      voice: 'alloy',
      response_format: 'pcm',
      stream_format: 'audio',
    });
    expect(call.headers.authorization).toBe(`Bearer ${FAKE_SPEECH_KEY}`);
    expect(call.completed).toBe(true);
  });

  it('keeps the connection of a finished body for the next call', async () => {
    const provider = makeProvider();
    await collect(provider.synthesize(request, flowing()));
    // The body has ended; give the socket that moment to return to the pool.
    await sleep(20);
    await collect(provider.synthesize(request, flowing()));
    const [first, second] = server.calls;
    expect(second.remotePort).toBe(first.remotePort);
    expect(first.socketClosedAt).toBeUndefined();
  });

  it('is cold: nothing is sent until it is subscribed', async () => {
    const audio$ = makeProvider().synthesize(request, flowing());
    await sleep(50);
    expect(server.calls).toHaveLength(0);
    await collect(audio$);
    expect(server.calls).toHaveLength(1);
  });

  it('closes the connection when unsubscribed mid-stream', async () => {
    const first = await firstValueFrom(makeProvider().synthesize(longRequest, flowing()));
    const stoppedAt = performance.now();
    expect(first.length).toBeGreaterThan(0);
    const call = await server.call(0);
    await expectSpeechCutWithin(call, stoppedAt);
    expect(call.completed).toBe(false);
  });

  it('closes the connection when unsubscribed before the first audio byte', async () => {
    server.behavior = { kind: 'speak', firstByteDelayMs: 10_000 };
    const chunks: Buffer[] = [];
    const subscription = makeProvider()
      .synthesize(request, flowing())
      .subscribe((chunk) => chunks.push(chunk));
    const call = await server.call(0);
    await sleep(50); // let the headers reach the provider
    const stoppedAt = performance.now();
    subscription.unsubscribe();
    await expectSpeechCutWithin(call, stoppedAt);
    expect(call.completed).toBe(false);
    expect(chunks).toHaveLength(0);
  });

  it('fails with a TtsError carrying the status and body of a 500', async () => {
    server.behavior = { kind: 'status', status: 500, body: 'engine on fire' };
    const error = await failure(makeProvider().synthesize(request, flowing()));
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('500');
    expect((error as TtsError).detail).toContain('engine on fire');
  });

  it('fails with a TtsError carrying the status of a 401 for a wrong key', async () => {
    const error = await failure(makeProvider({ apiKey: 'sk-wrong' }).synthesize(request, flowing()));
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('401');
  });

  it('sends no Authorization header without a key', async () => {
    await failure(makeProvider({ apiKey: '' }).synthesize(request, flowing()));
    expect((await server.call(0)).headers.authorization).toBeUndefined();
  });

  it('fails with a TtsError when the body drops mid-way', async () => {
    server.behavior = { kind: 'drop', afterBytes: 48_000 };
    const chunks: Buffer[] = [];
    const error = await new Promise((resolve) =>
      makeProvider()
        .synthesize(longRequest, flowing())
        .subscribe({ next: (chunk) => chunks.push(chunk), error: resolve, complete: () => resolve(undefined) }),
    );
    expect(error).toBeInstanceOf(TtsError);
    expect(Buffer.concat(chunks).length).toBeLessThanOrEqual(48_000);
  });

  it('fails with a TtsError when the server cannot be reached', async () => {
    await server.stop();
    const error = await failure(makeProvider().synthesize(request, flowing()));
    expect(error).toBeInstanceOf(TtsError);
  });

  it('times out a server that never sends the first byte, and closes its socket', async () => {
    server.behavior = { kind: 'speak', firstByteDelayMs: 60_000 };
    const startedAt = performance.now();
    const error = await failure(makeProvider({ timeoutMs: 200 }).synthesize(request, flowing()));
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(TtsError);
    expect(failedAt - startedAt).toBeGreaterThanOrEqual(190);
    expect(failedAt - startedAt).toBeLessThan(5000);
    const call = await server.call(0);
    await expectSpeechCutWithin(call, failedAt);
  });

  it('stops reading while paused, then delivers the rest', async () => {
    server.behavior = { kind: 'speak', chunkBytes: 4800, intervalMs: 5 };
    const text = 'y'.repeat(400); // 192 KB in 40 writes: still streaming when paused
    const paused$ = new BehaviorSubject(false);
    const chunks: Buffer[] = [];
    let resolveFirst!: () => void;
    const firstChunk = new Promise<void>((resolve) => (resolveFirst = resolve));
    const completion = new Promise<void>((resolve, reject) =>
      makeProvider()
        .synthesize({ text, language: 'en' }, { paused$ })
        .subscribe({
          next: (chunk) => {
            chunks.push(chunk);
            if (chunks.length === 1) {
              paused$.next(true);
              resolveFirst();
            }
          },
          error: reject,
          complete: resolve,
        }),
    );
    await firstChunk;
    const call = await server.call(0);
    await sleep(150);
    expect(chunks).toHaveLength(1);
    // There was audio to hold back: the server wrote on while we did not read.
    expect(call.bytesWritten).toBeGreaterThan(chunks[0].length);
    paused$.next(false);
    await completion;
    expect(Buffer.concat(chunks).equals(expectedSpeech(text))).toBe(true);
  });

  it('does not time out while the client keeps it paused before the first byte', async () => {
    const paused$ = new BehaviorSubject(true);
    const audio = collect(makeProvider({ timeoutMs: 200 }).synthesize(request, { paused$ }));
    await sleep(500);
    paused$.next(false);
    expect((await audio).equals(expectedSpeech(request.text))).toBe(true);
  });

  it('times out a server that goes silent mid-way, and closes its socket', async () => {
    server.behavior = { kind: 'stall', afterBytes: 9600 };
    const chunks: Buffer[] = [];
    const error = await new Promise((resolve) =>
      makeProvider({ timeoutMs: 300 })
        .synthesize(request, flowing())
        .subscribe({ next: (chunk) => chunks.push(chunk), error: resolve, complete: () => resolve(undefined) }),
    );
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toBe('no audio for 300 ms');
    expect(Buffer.concat(chunks).length).toBe(9600);
    await expectSpeechCutWithin(await server.call(0), failedAt);
  });

  it('does not time out while the client keeps it paused mid-way', async () => {
    server.behavior = { kind: 'speak', chunkBytes: 4800, intervalMs: 5 };
    const paused$ = new BehaviorSubject(false);
    const chunks: Buffer[] = [];
    const completion = new Promise<void>((resolve, reject) =>
      makeProvider({ timeoutMs: 200 })
        .synthesize(request, { paused$ })
        .subscribe({
          next: (chunk) => {
            chunks.push(chunk);
            if (chunks.length === 1) paused$.next(true);
          },
          error: reject,
          complete: resolve,
        }),
    );
    await sleep(500);
    paused$.next(false);
    await completion;
    expect(Buffer.concat(chunks).equals(expectedSpeech(request.text))).toBe(true);
  });
});
