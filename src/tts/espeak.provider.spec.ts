import { readdirSync, readFileSync } from 'node:fs';
import { BehaviorSubject, lastValueFrom, toArray } from 'rxjs';
import { EspeakProvider, probeEspeak } from './espeak.provider.js';
import { TtsError } from './tts-provider.js';

const BINARY = 'espeak-ng';
const notPaused = { paused$: new BehaviorSubject(false) };

/** Child processes of this test process running `name`, by pid (zombies included: their /proc entry remains). */
function childrenNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return comm === name && ppid === process.pid;
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pcmOf = (chunks: Buffer[]) => Buffer.concat(chunks);
const seconds = (pcm: Buffer, rate: number) => pcm.length / 2 / rate;
function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return Math.sqrt(sum / (pcm.length / 2));
}

describe('EspeakProvider (the real espeak-ng)', () => {
  let provider: EspeakProvider;
  let sampleRate: number;

  beforeAll(async () => {
    ({ sampleRate } = await probeEspeak(BINARY, 5000));
    provider = new EspeakProvider({ binary: BINARY, timeoutMs: 5000, sampleRate });
  });

  it('probes the engine and its sample rate', () => {
    expect(sampleRate).toBe(22050);
    expect(provider.descriptor.format).toEqual({ codec: 'pcm_s16le', sample_rate: 22050, channels: 1 });
  });

  it('speaks a short reply as PCM whose length follows the text', async () => {
    const short = pcmOf(
      await lastValueFrom(provider.synthesize({ text: 'Hello there, how are you?', language: 'en' }, notPaused).pipe(toArray())),
    );
    const long = pcmOf(
      await lastValueFrom(
        provider
          .synthesize({ text: 'Hello there, how are you? I am fine, thank you, and the weather is lovely.', language: 'en' }, notPaused)
          .pipe(toArray()),
      ),
    );
    expect(short.length % 2).toBe(0);
    expect(seconds(short, sampleRate)).toBeGreaterThan(0.8);
    expect(seconds(short, sampleRate)).toBeLessThan(4);
    expect(seconds(long, sampleRate) / seconds(short, sampleRate)).toBeGreaterThan(1.8);
    expect(seconds(long, sampleRate) / seconds(short, sampleRate)).toBeLessThan(4);
    expect(rms(short)).toBeGreaterThan(500); // speech, not silence
    expect(short.subarray(0, 4).toString('latin1')).not.toBe('RIFF'); // the WAV header is gone
  });

  it('speaks Chinese with a Mandarin voice', async () => {
    const pcm = pcmOf(await lastValueFrom(provider.synthesize({ text: '你好，世界。', language: 'zh' }, notPaused).pipe(toArray())));
    expect(seconds(pcm, sampleRate)).toBeGreaterThan(0.5);
  });

  it('kills the process when unsubscribed, leaving no zombie', async () => {
    // Minutes of audio, and reading paused at the first chunk: left alone, the
    // process would block on its full pipe forever, so only a kill ends it.
    const text = 'This sentence is long enough to keep the engine busy for a while. '.repeat(40);
    const paused$ = new BehaviorSubject(false);
    const first = new Promise<void>((resolve) => {
      const subscription = provider.synthesize({ text, language: 'en' }, { paused$ }).subscribe(() => {
        paused$.next(true);
        subscription.unsubscribe();
        resolve();
      });
    });
    // The pid is looked up while the process runs; once killed it must vanish from /proc entirely.
    let pids: number[] = [];
    await until(() => (pids = childrenNamed('espeak-ng')).length > 0);
    await first;
    await until(() => pids.every((pid) => !readdirSync('/proc').includes(String(pid))));
    expect(childrenNamed('espeak-ng')).toEqual([]);
  });

  it('stops reading while paused, and loses nothing when resumed', async () => {
    const text = 'One two three four five six seven eight nine ten. '.repeat(20);
    const whole = pcmOf(await lastValueFrom(provider.synthesize({ text, language: 'en' }, notPaused).pipe(toArray())));
    const paused$ = new BehaviorSubject(false);
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) =>
      provider.synthesize({ text, language: 'en' }, { paused$ }).subscribe({
        next: (chunk) => {
          chunks.push(chunk);
          paused$.next(true);
        },
        error: reject,
        complete: resolve,
      }),
    );
    await until(() => chunks.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(chunks).toHaveLength(1);
    paused$.next(false);
    // Each chunk pauses again; keep resuming until it is over.
    const resumer = paused$.subscribe((paused) => paused && setImmediate(() => paused$.next(false)));
    await done;
    resumer.unsubscribe();
    expect(pcmOf(chunks).equals(whole)).toBe(true);
  });

  it('does not time out while the client keeps it paused, before the first audio and after', async () => {
    const quick = new EspeakProvider({ binary: BINARY, timeoutMs: 300, sampleRate });
    const text = 'One two three four five six seven eight nine ten. '.repeat(4);
    const paused$ = new BehaviorSubject(true);
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) =>
      quick
        .synthesize({ text, language: 'en' }, { paused$ })
        .subscribe({ next: (chunk) => chunks.push(chunk), error: reject, complete: resolve }),
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(chunks).toHaveLength(0);
    paused$.next(false);
    await until(() => chunks.length > 0);
    paused$.next(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    paused$.next(false);
    await done;
    expect(seconds(pcmOf(chunks), sampleRate)).toBeGreaterThan(2);
  });

  it('fails with a TtsError when the binary is missing', async () => {
    const missing = new EspeakProvider({ binary: 'no-such-espeak', timeoutMs: 1000, sampleRate });
    await expect(lastValueFrom(missing.synthesize({ text: 'hi', language: 'en' }, notPaused))).rejects.toBeInstanceOf(TtsError);
    await expect(probeEspeak('no-such-espeak', 1000)).rejects.toThrow(/cannot run/);
  });
});
