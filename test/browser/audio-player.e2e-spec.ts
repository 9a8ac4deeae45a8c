import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { AudioChunk, AudioPlayer, PlaybackReport, PlayedPosition } from '../../client/src/index.js';
import { type HeadlessChromium, launchChromium } from './chromium.js';

const TEST_MS = 60_000;

/** What the page gets: the SDK bundled as a global, as a page would load it. */
declare global {
  interface Window {
    Sdk: { AudioPlayer: typeof AudioPlayer };
    player: AudioPlayer;
    reports: PlaybackReport[];
    chunk: (seq: number, codec?: 'pcm_s16le' | 'wav') => AudioChunk;
  }
}

/**
 * The SDK's AudioPlayer in Chromium, with a real AudioContext (headless
 * Chromium plays into a silent output, on a clock that runs).
 */
describe('AudioPlayer in Chromium', () => {
  let browser: HeadlessChromium;
  let sdk: string;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    const bundle = await build({ entryPoints: ['client/src/index.ts'], bundle: true, format: 'iife', globalName: 'Sdk', write: false });
    sdk = bundle.outputFiles[0].text;
  }, TEST_MS);

  afterAll(async () => {
    await browser.close();
  });

  beforeEach(async () => {
    page = await browser.context.newPage();
    await page.setContent('<button id="unlock">unlock</button>');
    await page.addScriptTag({ content: sdk });
    await page.evaluate(() => {
      window.player = new window.Sdk.AudioPlayer();
      window.reports = [];
      window.player.played$.subscribe((report) => window.reports.push(report));
      // 100 ms of a quiet tone, 24 kHz mono; as a WAV file for the compressed path.
      window.chunk = (seq, codec = 'pcm_s16le') => {
        const samples = new Int16Array(2400).map((_, i) => Math.round(Math.sin(i / 8) * 1000));
        const pcm = new Uint8Array(samples.buffer);
        const audio = codec === 'pcm_s16le' ? pcm : wav(pcm);
        return { voiceStreamSeq: seq, audio, format: { codec, sample_rate: 24000, channels: 1 }, durationMs: 100 };
        function wav(data: Uint8Array): Uint8Array {
          const file = new Uint8Array(44 + data.length);
          const view = new DataView(file.buffer);
          const text = (at: number, s: string) => Array.from(s, (c, i) => view.setUint8(at + i, c.charCodeAt(0)));
          text(0, 'RIFF');
          view.setUint32(4, 36 + data.length, true);
          text(8, 'WAVEfmt ');
          view.setUint32(16, 16, true);
          view.setUint16(20, 1, true);
          view.setUint16(22, 1, true);
          view.setUint32(24, 24000, true);
          view.setUint32(28, 48000, true);
          view.setUint16(32, 2, true);
          view.setUint16(34, 16, true);
          text(36, 'data');
          view.setUint32(40, data.length, true);
          file.set(data, 44);
          return file;
        }
      };
      document.getElementById('unlock')!.addEventListener('click', () => void window.player.unlock());
    });
    // A real click: browsers start audio only in a user gesture.
    await page.click('#unlock');
  });

  afterEach(async () => {
    await page.close();
  });

  /** Resolves with the reports once `count` have come (each when a frame has played to its end). */
  const reportsAfter = (count: number) =>
    page.evaluate(
      (count) =>
        new Promise<PlaybackReport[]>((resolve) => {
          const done = () => window.reports.length >= count;
          if (done()) return resolve(window.reports);
          const subscription = window.player.played$.subscribe(() => {
            if (!done()) return;
            subscription.unsubscribe();
            resolve(window.reports);
          });
        }),
      count,
    );

  it(
    'plays PCM and compressed frames in order, and reports each one played',
    async () => {
      await page.evaluate(() => {
        window.player.play('r1', window.chunk(0));
        window.player.play('r1', window.chunk(1, 'wav'));
        window.player.play('r1', window.chunk(2));
      });
      expect(await reportsAfter(3)).toEqual([1, 2, 3].map((seq) => ({ request_id: 'r1', voice_stream_seq: seq, played_ms: 0 })));
      expect(await page.evaluate(() => window.player.positionOf('r1'))).toEqual({ voice_stream_seq: 3, played_ms: 0 });
    },
    TEST_MS,
  );

  it(
    'stops a request at once, says where, and moves up what was queued behind it',
    async () => {
      const { stoppedAt, behindSoon } = await page.evaluate(
        () =>
          new Promise<{ stoppedAt?: PlayedPosition; behindSoon?: PlayedPosition }>((resolve) => {
            for (let seq = 0; seq < 4; seq++) window.player.play('r1', window.chunk(seq));
            for (let seq = 0; seq < 2; seq++) window.player.play('r2', window.chunk(seq));
            // The moment the first frame has played: the second has just begun.
            const subscription = window.player.played$.subscribe(() => {
              subscription.unsubscribe();
              const stoppedAt = window.player.stop('r1');
              // 150 ms later on the audio clock, r2 is playing: it did not wait where r1's frames would have been.
              const { context } = window.player;
              const tick = context.createConstantSource();
              const mute = context.createGain();
              mute.gain.value = 0;
              tick.connect(mute).connect(context.destination);
              tick.onended = () => resolve({ stoppedAt, behindSoon: window.player.positionOf('r2') });
              tick.start();
              tick.stop(context.currentTime + 0.15);
            });
          }),
      );
      expect(stoppedAt?.voice_stream_seq).toBe(1);
      expect(stoppedAt!.played_ms).toBeLessThan(100);
      expect(behindSoon).not.toEqual({ voice_stream_seq: 0, played_ms: 0 });
      const reports = await reportsAfter(3);
      // r1's second frame never finished, and nothing of r1 was reported after the stop.
      expect(reports.map((r) => `${r.request_id}:${r.voice_stream_seq}`)).toEqual(['r1:1', 'r2:1', 'r2:2']);
      expect(await page.evaluate(() => window.player.positionOf('r1'))).toBeUndefined();
    },
    TEST_MS,
  );

  it(
    'pauses a request at once and resumes it where it paused, with what arrived meanwhile, each frame played once',
    async () => {
      const { pausedAt, stillAt, resumedAt } = await page.evaluate(
        () =>
          new Promise<{ pausedAt?: PlayedPosition; stillAt?: PlayedPosition; resumedAt?: PlayedPosition }>((resolve) => {
            for (let seq = 0; seq < 3; seq++) window.player.play('r1', window.chunk(seq));
            const { context } = window.player;
            /** Runs `then` once `seconds` have passed on the audio clock. */
            const after = (seconds: number, then: () => void) => {
              const tick = context.createConstantSource();
              const mute = context.createGain();
              mute.gain.value = 0;
              tick.connect(mute).connect(context.destination);
              tick.onended = then;
              tick.start();
              tick.stop(context.currentTime + seconds);
            };
            // 40 ms into the second frame.
            const subscription = window.player.played$.subscribe(() => {
              subscription.unsubscribe();
              after(0.04, () => {
                const pausedAt = window.player.pause('r1');
                // Sent while paused: it waits behind what was paused.
                window.player.play('r1', window.chunk(3));
                after(0.3, () => {
                  const stillAt = window.player.positionOf('r1');
                  window.player.resume('r1');
                  // The gateway sends again from its first unsent frame: one this page has is not played twice.
                  window.player.play('r1', window.chunk(3));
                  window.player.play('r1', window.chunk(4));
                  after(0.14, () => resolve({ pausedAt, stillAt, resumedAt: window.player.positionOf('r1') }));
                });
              });
            });
          }),
      );
      expect(pausedAt?.voice_stream_seq).toBe(1);
      expect(pausedAt!.played_ms).toBeGreaterThan(20);
      expect(pausedAt!.played_ms).toBeLessThan(100);
      // Nothing played while paused.
      expect(stillAt).toEqual(pausedAt);
      // 140 ms after the resume, 60 of them its lead time, it is in frame 2: frame 1 was played on, not again from its start.
      expect(resumedAt?.voice_stream_seq).toBe(2);
      const reports = await reportsAfter(5);
      expect(reports.map((r) => `${r.request_id}:${r.voice_stream_seq}`)).toEqual(['r1:1', 'r1:2', 'r1:3', 'r1:4', 'r1:5']);
    },
    TEST_MS,
  );

  it(
    'stops everything at once',
    async () => {
      const reports = await page.evaluate(
        () =>
          new Promise<PlaybackReport[]>((resolve) => {
            for (let seq = 0; seq < 3; seq++) window.player.play('r1', window.chunk(seq));
            const subscription = window.player.played$.subscribe(() => {
              subscription.unsubscribe();
              window.player.stopAll();
              // Something queued after the stop still plays: the player is not broken, only emptied.
              window.player.play('r3', window.chunk(0));
              window.player.played$.subscribe(() => resolve(window.reports));
            });
          }),
      );
      expect(reports.map((r) => `${r.request_id}:${r.voice_stream_seq}`)).toEqual(['r1:1', 'r3:1']);
    },
    TEST_MS,
  );
});
