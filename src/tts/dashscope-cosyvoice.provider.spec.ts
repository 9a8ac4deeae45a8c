import { BehaviorSubject, firstValueFrom, lastValueFrom, take, toArray, type Observable } from 'rxjs';
import { expectCutWithin, FakeDashScope } from '../../test/support/fake-dashscope.js';
import { DashScopeCosyVoiceProvider, type DashScopeCosyVoiceOptions } from './dashscope-cosyvoice.provider.js';
import { type FlowControl, TtsError } from './tts-provider.js';

const TEXT = 'Hello there, how are you?';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('DashScopeCosyVoiceProvider', () => {
  let fake: FakeDashScope;
  let options: DashScopeCosyVoiceOptions;
  const flowing = (): FlowControl => ({ paused$: new BehaviorSubject(false) });
  const provider = (overrides: Partial<DashScopeCosyVoiceOptions> = {}) => new DashScopeCosyVoiceProvider({ ...options, ...overrides });
  const speak = (text = TEXT, flow = flowing()) => provider().synthesize({ text, language: 'en' }, flow);

  beforeEach(async () => {
    fake = new FakeDashScope();
    options = {
      url: await fake.start(),
      apiKey: 'sk-dashscope-test',
      model: 'cosyvoice-v2',
      voice: 'longxiaochun_v2',
      format: 'pcm',
      sampleRate: 16000,
      timeoutMs: 2000,
    };
  });

  afterEach(() => fake.stop());

  it('describes its voice and audio format', () => {
    expect(provider().descriptor).toEqual({
      provider: 'dashscope',
      voice: 'longxiaochun_v2',
      format: { codec: 'pcm_s16le', sample_rate: 16000, channels: 1 },
    });
    expect(provider({ format: 'mp3', sampleRate: 22050 }).descriptor.format).toEqual({
      codec: 'mp3',
      sample_rate: 22050,
      channels: 1,
    });
  });

  it('streams the whole audio in order, speaking the protocol as documented', async () => {
    fake.behavior = { kind: 'speak', framesPerChar: 2, intervalMs: 1 };
    const chunks = await lastValueFrom(speak().pipe(toArray()));

    const task = await fake.task(0);
    expect(task.audioFramesSent).toBe(TEXT.length * 2);
    expect(chunks).toHaveLength(task.audioFramesSent);
    expect(Buffer.concat(chunks).equals(Buffer.concat(task.audioSent))).toBe(true);
    expect(task.finished).toBe(true);
    expect(task.headers.authorization).toBe('bearer sk-dashscope-test');

    const taskId = task.messages[0]?.header.task_id;
    expect(taskId).toMatch(UUID);
    const header = (action: string) => ({ action, task_id: taskId, streaming: 'duplex' });
    expect(task.messages).toEqual([
      {
        header: header('run-task'),
        payload: {
          task_group: 'audio',
          task: 'tts',
          function: 'SpeechSynthesizer',
          model: 'cosyvoice-v2',
          parameters: {
            text_type: 'PlainText',
            voice: 'longxiaochun_v2',
            format: 'pcm',
            sample_rate: 16000,
            volume: 50,
            rate: 1,
            pitch: 1,
          },
          input: {},
        },
      },
      { header: header('continue-task'), payload: { input: { text: TEXT } } },
      { header: header('finish-task'), payload: { input: {} } },
    ]);
    // Closed normally once the task finished, not left open.
    await expect(task.socketClosed).resolves.toEqual(expect.any(Number));
  });

  it('sends no Authorization header without an API key', async () => {
    await lastValueFrom(provider({ apiKey: '' }).synthesize({ text: 'hi', language: 'en' }, flowing()));
    expect((await fake.task(0)).headers.authorization).toBeUndefined();
  });

  it('is cold: nothing connects until it is subscribed', async () => {
    const audio$ = speak('hi');
    await sleep(50);
    expect(fake.tasks).toHaveLength(0);
    await lastValueFrom(audio$);
    expect(fake.tasks).toHaveLength(1);
  });

  it('terminates the socket when unsubscribed mid-stream', async () => {
    // 25 chars × 40 frames × 5 ms: seconds of audio, far more than the 1000 ms window.
    fake.behavior = { kind: 'speak', framesPerChar: 40, intervalMs: 5 };
    const chunks = await firstValueFrom(speak().pipe(take(3), toArray()));
    const stoppedAt = performance.now();
    expect(chunks).toHaveLength(3);

    const task = await fake.task(0);
    await expectCutWithin(task, stoppedAt, 1000);
    expect(task.finished).toBe(false);
    expect(task.audioFramesSent).toBeLessThan(TEXT.length * 40);
  });

  it('terminates the socket when unsubscribed before any audio', async () => {
    fake.behavior = { kind: 'silent' };
    const subscription = speak().subscribe({ error: () => {} });
    const task = await fake.task(0);
    const stoppedAt = performance.now();
    subscription.unsubscribe();
    await expectCutWithin(task, stoppedAt, 1000);
  });

  it('can be unsubscribed while the handshake is still running', async () => {
    const received: unknown[] = [];
    speak()
      .subscribe({ next: (chunk) => received.push(chunk), error: (error: unknown) => received.push(error) })
      .unsubscribe();
    await sleep(100);
    expect(received).toEqual([]);
    expect(fake.tasks.every((task) => task.socketClosedAt !== undefined)).toBe(true);
  });

  it('errors with a TtsError naming the code on task-failed', async () => {
    fake.behavior = { kind: 'fail' };
    const error = await failure(speak());
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('InvalidParameter');
    await (
      await fake.task(0)
    ).socketClosed;
  });

  it('errors with a TtsError and closes the socket when the server stays silent past timeoutMs', async () => {
    fake.behavior = { kind: 'silent' };
    const startedAt = performance.now();
    const error = await failure(provider({ timeoutMs: 200 }).synthesize({ text: TEXT, language: 'en' }, flowing()));
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('200 ms');
    expect(failedAt - startedAt).toBeGreaterThanOrEqual(190);
    await expectCutWithin(await fake.task(0), failedAt, 1000);
  });

  it('errors with a TtsError and closes the socket when the server goes silent mid-synthesis', async () => {
    fake.behavior = { kind: 'speak', framesPerChar: 2, intervalMs: 1, stallAfterFrames: 5 };
    const chunks: Buffer[] = [];
    const error = await new Promise((resolve) =>
      provider({ timeoutMs: 300 })
        .synthesize({ text: TEXT, language: 'en' }, flowing())
        .subscribe({ next: (chunk) => chunks.push(chunk), error: resolve, complete: () => resolve(undefined) }),
    );
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toBe('no audio from DashScope for 300 ms');
    expect(chunks).toHaveLength(5);
    await expectCutWithin(await fake.task(0), failedAt, 1000);
  });

  it('does not time out while the client keeps it paused before any audio', async () => {
    const paused$ = new BehaviorSubject(true);
    const audio = lastValueFrom(provider({ timeoutMs: 200 }).synthesize({ text: 'hi', language: 'en' }, { paused$ }).pipe(toArray()));
    await sleep(500);
    paused$.next(false);
    expect(await audio).toHaveLength(2);
  });

  it('errors with a TtsError carrying the HTTP status when the handshake is refused', async () => {
    const wrongPath = provider({ url: `${fake.origin}/not-the-endpoint` });
    const error = await failure(wrongPath.synthesize({ text: TEXT, language: 'en' }, flowing()));
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('400');
  });

  it('errors with a TtsError when the socket closes before task-finished', async () => {
    fake.behavior = { kind: 'speak', framesPerChar: 40, intervalMs: 5 };
    const audio$ = speak();
    const errored = failure(audio$);
    await fake.task(0);
    await fake.stop();
    const error = await errored;
    expect(error).toBeInstanceOf(TtsError);
    expect((error as TtsError).detail).toContain('closed before task-finished');
  });

  it('stops reading while paused, so TCP backpressure reaches the server, and resumes', async () => {
    // Far more than the loopback's socket buffers hold, sent as fast as they drain.
    const frames = 400;
    fake.behavior = { kind: 'speak', framesPerChar: frames, frameBytes: 64 * 1024, intervalMs: 0 };
    const paused$ = new BehaviorSubject(false);
    const received: Buffer[] = [];
    let firstFrame!: () => void;
    const first = new Promise<void>((resolve) => (firstFrame = resolve));
    const done = new Promise<void>((resolve, reject) =>
      provider()
        .synthesize({ text: 'x', language: 'en' }, { paused$ })
        .subscribe({
          next: (chunk) => {
            received.push(chunk);
            if (received.length === 1) {
              paused$.next(true);
              firstFrame();
            }
          },
          complete: resolve,
          error: reject,
        }),
    );

    await first;
    // Frames read from TCP with the first one may still be parsed, and the
    // server fills the socket buffers (slowly on a busy machine); once that
    // has settled, nothing moves.
    const sentWhilePaused = await settled(async () => (await fake.task(0)).audioFramesSent);
    const receivedWhilePaused = received.length;
    await sleep(100);
    expect(received.length).toBe(receivedWhilePaused);
    expect(receivedWhilePaused).toBeLessThan(frames);
    const task = await fake.task(0);
    expect(task.audioFramesSent).toBe(sentWhilePaused);
    expect(task.audioFramesSent).toBeLessThan(frames);

    paused$.next(false);
    await done;
    expect(received.length).toBe(frames);
    expect(Buffer.concat(received).equals(Buffer.concat(task.audioSent))).toBe(true);
  });
});

/** The value once two reads 100 ms apart agree (within 5 s). */
async function settled(read: () => Promise<number>): Promise<number> {
  let last = await read();
  for (const deadline = performance.now() + 5000; performance.now() < deadline;) {
    await sleep(100);
    const now = await read();
    if (now === last) return now;
    last = now;
  }
  throw new Error(`still moving after 5 s: ${last}`);
}

function failure(audio$: Observable<Buffer>): Promise<unknown> {
  return lastValueFrom(audio$).then(
    () => {
      throw new Error('expected the synthesis to fail');
    },
    (error: unknown) => error,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
