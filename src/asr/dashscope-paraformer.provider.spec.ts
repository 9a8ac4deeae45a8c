import { defer, lastValueFrom, type Observable, of, Subject, toArray } from 'rxjs';
import { expectAsrCutWithin, FakeDashScopeAsr, type FakeSentence } from '../../test/support/fake-dashscope-asr.js';
import { AsrError, type AsrEvent } from './asr-provider.js';
import { DashScopeParaformerProvider, type DashScopeParaformerOptions } from './dashscope-paraformer.provider.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** 100 ms of 16 kHz s16le, frame `index` of a ramp, so a lost, doubled or swapped frame shows. */
function frame(index: number): Buffer {
  const bytes = Buffer.allocUnsafe(3200);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (index * 7 + i) % 251;
  return bytes;
}
const frames = (count: number) => Array.from({ length: count }, (_, index) => frame(index));

/** Interim results of one sentence, then its end. */
function sentence(...texts: string[]): FakeSentence[] {
  return texts.map((text, index) => ({ text, sentence_end: index === texts.length - 1 }));
}

/** What a subscription saw, in order. */
interface Seen {
  events: AsrEvent[];
  error?: unknown;
  completed: boolean;
}

describe('DashScopeParaformerProvider', () => {
  let fake: FakeDashScopeAsr;
  let options: DashScopeParaformerOptions;
  const provider = (overrides: Partial<DashScopeParaformerOptions> = {}) => new DashScopeParaformerProvider({ ...options, ...overrides });
  const transcribe = (audio$: Observable<Buffer>, language = 'en', overrides: Partial<DashScopeParaformerOptions> = {}) =>
    provider(overrides).transcribe(audio$, { language });
  const collect = (events$: Observable<AsrEvent>) => lastValueFrom(events$.pipe(toArray()));
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
    fake = new FakeDashScopeAsr();
    options = { url: await fake.start(), apiKey: 'sk-dashscope-test', model: 'paraformer-realtime-v2', timeoutMs: 2000 };
  });

  afterEach(() => fake.stop());

  it('describes its model', () => {
    expect(provider().descriptor).toEqual({ provider: 'dashscope', model: 'paraformer-realtime-v2' });
  });

  it('streams the audio and turns the results into partials, then one final, speaking the protocol as documented', async () => {
    fake.behavior = {
      kind: 'recognize',
      results: [...sentence('Hello', 'Hello there,'), ...sentence('how', 'how are you?')],
    };
    const audio = frames(3);
    const events = await collect(transcribe(of(...audio)));

    expect(events).toEqual([
      { type: 'partial', text: 'Hello' },
      { type: 'partial', text: 'Hello there,' },
      { type: 'partial', text: 'Hello there, how' },
      { type: 'partial', text: 'Hello there, how are you?' },
      { type: 'final', text: 'Hello there, how are you?' },
    ]);
    const task = await fake.task(0);
    expect(task.headers.authorization).toBe('bearer sk-dashscope-test');
    expect(task.audio).toHaveLength(3);
    expect(Buffer.concat(task.audio).equals(Buffer.concat(audio))).toBe(true);
    expect(task.framesBeforeStart).toBe(0);
    expect(task.framesAfterFinish).toBe(0);
    expect(task.finished).toBe(true);

    const taskId = task.messages[0]?.header.task_id;
    expect(taskId).toMatch(UUID);
    const header = (action: string) => ({ action, task_id: taskId, streaming: 'duplex' });
    expect(task.messages).toEqual([
      {
        header: header('run-task'),
        payload: {
          task_group: 'audio',
          task: 'asr',
          function: 'recognition',
          model: 'paraformer-realtime-v2',
          parameters: { format: 'pcm', sample_rate: 16000, language_hints: ['en'] },
          input: {},
        },
      },
      { header: header('finish-task'), payload: { input: {} } },
    ]);
    // Closed normally once the task finished, not left open.
    await expect(task.socketClosed).resolves.toEqual(expect.any(Number));
  });

  it('joins Chinese sentences without a space, and hints the language without its region', async () => {
    fake.behavior = { kind: 'recognize', results: [...sentence('你好', '你好。'), ...sentence('今天', '今天好吗？')] };
    const events = await collect(transcribe(of(...frames(2)), 'zh-CN'));
    expect(events.at(-1)).toEqual({ type: 'final', text: '你好。今天好吗？' });
    expect(events.at(2)).toEqual({ type: 'partial', text: '你好。今天' });
    const [runTask] = (await fake.task(0)).messages;
    expect(runTask.payload.parameters).toMatchObject({ language_hints: ['zh'] });
  });

  it('skips heartbeats and empty sentences', async () => {
    fake.behavior = {
      kind: 'recognize',
      results: [
        { text: '', sentence_end: false, heartbeat: true },
        { text: 'One.', sentence_end: true },
        { text: '', sentence_end: true },
        { text: 'Two.', sentence_end: true },
      ],
    };
    const events = await collect(transcribe(of(...frames(4))));
    expect(events).toEqual([
      { type: 'partial', text: 'One.' },
      { type: 'partial', text: 'One. Two.' },
      { type: 'final', text: 'One. Two.' },
    ]);
  });

  it('emits an empty final for an utterance in which nothing was recognized', async () => {
    const events = await collect(transcribe(of(...frames(2))));
    expect(events).toEqual([{ type: 'final', text: '' }]);
  });

  it('holds the audio that comes before task-started, then sends it in order', async () => {
    fake.behavior = { kind: 'recognize', startDelayMs: 150, results: sentence('late start') };
    const audio$ = new Subject<Buffer>();
    const events = collect(transcribe(audio$));
    const audio = frames(5);
    for (const chunk of audio.slice(0, 3)) audio$.next(chunk);
    await sleep(250); // task-started has come meanwhile
    for (const chunk of audio.slice(3)) audio$.next(chunk);
    audio$.complete();
    expect(await events).toEqual([
      { type: 'partial', text: 'late start' },
      { type: 'final', text: 'late start' },
    ]);
    const task = await fake.task(0);
    expect(task.framesBeforeStart).toBe(0);
    expect(Buffer.concat(task.audio).equals(Buffer.concat(audio))).toBe(true);
  });

  it('sends finish-task after the held audio when the utterance ends before task-started', async () => {
    fake.behavior = { kind: 'recognize', startDelayMs: 100, results: sentence('quick') };
    const audio = frames(3);
    const events = await collect(transcribe(of(...audio)));
    expect(events.at(-1)).toEqual({ type: 'final', text: 'quick' });
    const task = await fake.task(0);
    expect(task.framesBeforeStart).toBe(0);
    expect(task.framesAfterFinish).toBe(0);
    expect(Buffer.concat(task.audio).equals(Buffer.concat(audio))).toBe(true);
  });

  it('sends no Authorization header without an API key', async () => {
    await collect(transcribe(of(frame(0)), 'en', { apiKey: '' }));
    expect((await fake.task(0)).headers.authorization).toBeUndefined();
  });

  it('is cold: neither the audio nor the server is touched until it is subscribed', async () => {
    let audioSubscriptions = 0;
    const events$ = transcribe(
      defer(() => {
        audioSubscriptions += 1;
        return of(frame(0));
      }),
    );
    await sleep(50);
    expect(audioSubscriptions).toBe(0);
    expect(fake.tasks).toHaveLength(0);
    await collect(events$);
    expect(audioSubscriptions).toBe(1);
    expect(fake.tasks).toHaveLength(1);
  });

  it('errors with an AsrError naming the code on task-failed, and closes the socket', async () => {
    fake.behavior = { kind: 'fail', code: 'InvalidParameter', message: 'bad key sk-dashscope-test' };
    const error = await failure(transcribe(of(frame(0))));
    expect(error).toBeInstanceOf(AsrError);
    const { detail } = error as AsrError;
    expect(detail).toContain('task-failed: InvalidParameter');
    expect(detail).not.toContain('sk-dashscope-test');
    await (
      await fake.task(0)
    ).socketClosed;
  });

  it('errors with an AsrError carrying the HTTP status when the handshake is refused', async () => {
    const error = await failure(transcribe(of(frame(0)), 'en', { url: `${fake.origin}/not-the-endpoint` }));
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('400');
  });

  it('errors with an AsrError when the socket closes before task-finished', async () => {
    const errored = failure(transcribe(new Subject<Buffer>()));
    await fake.task(0);
    await fake.stop();
    const error = await errored;
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toContain('closed before task-finished');
  });

  it('passes an error of the audio on unchanged, and terminates the socket', async () => {
    const cause = new Error('microphone gone');
    const audio$ = new Subject<Buffer>();
    const errored = failure(transcribe(audio$));
    const task = await fake.task(0);
    const failedAt = performance.now();
    audio$.error(cause);
    expect(await errored).toBe(cause);
    await expectAsrCutWithin(task, failedAt);
  });

  it('errors with an AsrError, and closes the socket, when task-started does not come within timeoutMs', async () => {
    fake.behavior = { kind: 'silent' };
    const startedAt = performance.now();
    const error = await failure(transcribe(new Subject<Buffer>(), 'en', { timeoutMs: 200 }));
    const failedAt = performance.now();
    expect(error).toBeInstanceOf(AsrError);
    expect((error as AsrError).detail).toBe('no answer from DashScope for 200 ms');
    expect(failedAt - startedAt).toBeGreaterThanOrEqual(190);
    await expectAsrCutWithin(await fake.task(0), failedAt);
  });

  it('errors with an AsrError, and closes the socket, when task-finished does not come within timeoutMs of the end', async () => {
    fake.behavior = { kind: 'recognize', finishDelayMs: 60_000 };
    const audio$ = new Subject<Buffer>();
    const errored = failure(transcribe(audio$, 'en', { timeoutMs: 200 }));
    const task = await fake.task(0);
    // A user who speaks for longer than timeoutMs is no timeout.
    for (let i = 0; i < 5; i++) {
      audio$.next(frame(i));
      await sleep(100);
    }
    const endedAt = performance.now();
    audio$.complete();
    const error = await errored;
    const failedAt = performance.now();
    expect((error as AsrError).detail).toBe('no answer from DashScope for 200 ms');
    expect(failedAt - endedAt).toBeGreaterThanOrEqual(190);
    expect(task.audio).toHaveLength(5);
    await expectAsrCutWithin(task, failedAt);
  });

  describe('teardown', () => {
    it('while the audio streams: terminates the socket, and emits nothing more', async () => {
      fake.behavior = { kind: 'recognize', results: sentence('partial one', 'partial one two', 'partial one two three') };
      const audio$ = new Subject<Buffer>();
      const { seen, subscription } = watch(transcribe(audio$));
      const task = await fake.task(0);
      audio$.next(frame(0));
      await until(() => seen.events.length > 0);
      const stoppedAt = performance.now();
      subscription.unsubscribe();
      expect(audio$.observed).toBe(false);
      await expectAsrCutWithin(task, stoppedAt);
      await sleep(50);
      expect(seen).toEqual({ events: [{ type: 'partial', text: 'partial one' }], completed: false });
      expect(task.messages.map((message) => message.header.action)).toEqual(['run-task']);
    });

    it('while the server is slow to answer: terminates the socket, and emits nothing more', async () => {
      fake.behavior = { kind: 'recognize', finishDelayMs: 60_000, results: sentence('almost') };
      const { seen, subscription } = watch(transcribe(of(...frames(3))));
      const task = await fake.task(0);
      await until(() => task.messages.length === 2); // finish-task is in
      await sleep(20);
      const stoppedAt = performance.now();
      subscription.unsubscribe();
      await expectAsrCutWithin(task, stoppedAt);
      await sleep(50);
      expect(seen).toEqual({ events: [{ type: 'partial', text: 'almost' }], completed: false });
    });

    it('while the handshake still runs: closes the socket and emits nothing', async () => {
      const { seen, subscription } = watch(transcribe(of(frame(0))));
      subscription.unsubscribe();
      await sleep(100);
      expect(seen).toEqual({ events: [], completed: false });
      expect(fake.tasks.every((task) => task.socketClosedAt !== undefined)).toBe(true);
    });
  });
});

function failure(events$: Observable<AsrEvent>): Promise<unknown> {
  return lastValueFrom(events$).then(
    () => {
      throw new Error('expected the recognition to fail');
    },
    (error: unknown) => error,
  );
}

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
