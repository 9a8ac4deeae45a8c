import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../support/gateway-harness.js';
import { type HeadlessChromium, launchChromium, screenshot } from './chromium.js';

/** Generous: two cores, espeak-ng, pocketsphinx and Chromium share them with other test files. */
const WAIT_MS = 45_000;
const TEST_MS = 120_000;
const QUESTION = 'what is the weather like today';

/**
 * The demo page in hands-free mode, in headless Chromium, its microphone
 * Chromium's fake one playing a WAV that espeak-ng speaks at test time:
 * silence, the words, silence. Chromium reads the file again each time the
 * page opens the microphone, so a test says something by writing the file,
 * then turning hands-free on. The gateway runs as it does out of the box
 * (the simulated model, espeak-ng speech) with pocketsphinx to recognize
 * speech.
 */
describe('the demo page, hands-free, in Chromium', () => {
  let dir: string;
  let microphoneFile: string;
  let browser: HeadlessChromium;
  let gateway: RunningGateway;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-gateway-voice-'));
    microphoneFile = join(dir, 'microphone.wav');
    await writeFile(microphoneFile, await spokenWav('', { leadMs: 100, tailMs: 100 }));
    browser = await launchChromium({
      args: [
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        // Chromium loops the file by default, which would say it again every few seconds: once, then silence.
        `--use-file-for-fake-audio-capture=${microphoneFile}%noloop`,
      ],
    });
  }, TEST_MS);

  afterAll(async () => {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    gateway = await startGateway({ ASR_PROVIDER: 'pocketsphinx' });
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(gateway.httpUrl);
    await page.locator('#status[data-status="open"]').waitFor();
  });

  afterEach(async () => {
    await page.close();
    await gateway.close();
  });

  const textOf = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';
  const logged = (event: string) => page.locator(`#voice-log li[data-event="${event}"]`);
  /** Hands-free on, the fake microphone saying `text` (a second of silence before, three after). */
  const say = async (text: string) => {
    await writeFile(microphoneFile, await spokenWav(text, { leadMs: 1000, tailMs: 3000 }));
    // Enabled once REGISTER_ACK says the session takes voice (audio_input.enabled).
    await page.click('#hands-free[aria-pressed="false"]:enabled');
    await page.locator('#hands-free[aria-pressed="true"]').waitFor();
  };
  const microphoneOff = async () => {
    await page.click('#hands-free[aria-pressed="true"]');
    await page.locator('#hands-free[aria-pressed="false"]').waitFor();
  };
  /** The final transcript of the nth utterance (0 the first), once it is there. */
  const transcriptOf = async (nth: number) => {
    const finals = page.locator('#voice-log li[data-event="TRANSCRIPT"][data-final="true"]');
    // The log is newest first.
    await page.waitForFunction(
      (count) => document.querySelectorAll('#voice-log li[data-event="TRANSCRIPT"][data-final="true"]').length >= count,
      nth + 1,
    );
    const all = await finals.allTextContents();
    return /^“(.+)”/.exec(all[all.length - 1 - nth])?.[1];
  };
  const turnOf = (requestId: string) => page.locator(`#transcript .turn[data-request-id="${requestId}"]`);
  const heardFrames = async (requestId: string) => Number((await turnOf(requestId).getAttribute('data-heard-frames')) ?? 0);
  /** Resolves once the turn's audio has played past `frames` frames. */
  const plays = (requestId: string, frames: number) =>
    page.waitForFunction(
      ({ requestId, frames }) =>
        Number(document.querySelector<HTMLElement>(`.turn[data-request-id="${requestId}"]`)?.dataset.heardFrames ?? 0) >= frames,
      { requestId, frames },
    );

  it(
    'hears the question when the microphone is on, shows what it heard, and answers it',
    async () => {
      await page.locator('#hands-free:enabled').waitFor();
      await screenshot(page, 'voice-0-ready');
      await say(QUESTION);
      expect(await textOf('#voice-status')).toBe('listening');

      await logged('SPEECH_STARTED').waitFor();
      await screenshot(page, 'voice-1-speech-started');
      const heard = await transcriptOf(0);
      // What pocketsphinx makes of espeak-ng varies; that it heard words, and a turn of them, does not.
      expect(heard).toMatch(/\w/);
      expect(await logged('SPEECH_STOPPED').count()).toBeGreaterThan(0);

      // The turn the gateway started from it: the user's words above a reply that runs to its end.
      const turn = page.locator('#transcript .turn').last();
      await turn.and(page.locator('[data-state="finished"]')).waitFor({ timeout: 2 * WAIT_MS });
      expect(await turn.locator('.bubble.user').textContent()).toBe(heard);
      expect(((await turn.locator('.bubble.assistant').textContent()) ?? '').length).toBeGreaterThan(0);
      await screenshot(page, 'voice-2-answered');

      await microphoneOff();
      expect(await textOf('#voice-status')).toBe('microphone off');
    },
    3 * TEST_MS,
  );

  it(
    'talked over, pauses the reply at once: an “uh-huh” lets it go on from there, a question stops it and is answered',
    async () => {
      await say('tell me a story');
      await transcriptOf(0);
      const storyId = (await page.locator('#transcript .turn').last().getAttribute('data-request-id')) ?? '';
      // Pinned by its id: the turn the question starts comes after it.
      const story = turnOf(storyId);
      // It is speaking.
      await plays(storyId, 3);
      await microphoneOff();

      await say('uh-huh');
      await logged('PLAYBACK_PAUSE').waitFor();
      await logged('PLAYBACK_RESUME').waitFor();
      await screenshot(page, 'voice-3-resumed');
      expect(await textOf('#voice-log li[data-event="PLAYBACK_RESUME"]')).toMatch(/^resumed: /);
      expect(await page.locator('#paused').isHidden()).toBe(true);
      // Not interrupted, and playing on.
      expect(await story.getAttribute('data-state')).toBe('streaming');
      await plays(storyId, (await heardFrames(storyId)) + 2);
      await microphoneOff();

      await say('what time is it');
      await logged('INTERRUPTED').waitFor();
      await story.and(page.locator('[data-state="interrupted"]')).waitFor();
      const mark = await story.locator('.mark').last().textContent();
      expect(mark).toContain('interrupted (USER_SPEECH)');
      // What the user heard was reported when it paused: the rest is struck out.
      expect(mark).toContain('struck out');
      const question = await transcriptOf(2);
      const answer = page.locator('#transcript .turn').last();
      expect(await answer.getAttribute('data-request-id')).not.toBe(storyId);
      expect(await answer.locator('.bubble.user').textContent()).toBe(question);
      await answer.and(page.locator('[data-state="finished"]')).waitFor({ timeout: 2 * WAIT_MS });
      await screenshot(page, 'voice-4-interrupted');
    },
    3 * TEST_MS,
  );
});

/**
 * `text` spoken by espeak-ng, between `leadMs` and `tailMs` of silence, as a
 * 16-bit mono WAV file (espeak-ng's own rate, 22 050 Hz: Chromium resamples
 * it for its fake microphone).
 */
async function spokenWav(text: string, { leadMs, tailMs }: { leadMs: number; tailMs: number }): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-gateway-espeak-'));
  try {
    const file = join(dir, 'speech.wav');
    // US English, a little slower than espeak-ng's default: what pocketsphinx's en-us model recognizes best.
    await promisify(execFile)('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', file, text]);
    const { sampleRate, pcm } = readWav(await readFile(file));
    // Nothing to say: silence alone.
    if (!text) return wavFile(sampleRate, Buffer.alloc(Math.round((sampleRate * (leadMs + tailMs)) / 1000) * 2));
    const silence = (ms: number) => Buffer.alloc(Math.round((sampleRate * ms) / 1000) * 2);
    return wavFile(sampleRate, Buffer.concat([silence(leadMs), pcm, silence(tailMs)]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The format and samples of a 16-bit mono PCM WAV file. */
function readWav(file: Buffer): { sampleRate: number; pcm: Buffer } {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let sampleRate = 0;
  for (let at = 12; at + 8 <= file.length;) {
    const id = file.toString('ascii', at, at + 4);
    const size = file.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      const [format, channels, bits] = [file.readUInt16LE(at + 8), file.readUInt16LE(at + 10), file.readUInt16LE(at + 22)];
      if (format !== 1 || channels !== 1 || bits !== 16)
        throw new Error(`espeak-ng wrote ${bits}-bit, ${channels} channels, format ${format}`);
      sampleRate = file.readUInt32LE(at + 12);
    }
    // The data runs to the end of the file if its size is a placeholder (a WAV written as a stream).
    if (id === 'data') return { sampleRate, pcm: file.subarray(at + 8, Math.min(file.length, at + 8 + size)) };
    at += 8 + size + (size % 2);
  }
  throw new Error('a WAV file without data');
}

function wavFile(sampleRate: number, pcm: Buffer): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
