import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { own } from '../support/test-resources.js';

/** Debian's `chromium` package (npm test installs it). */
const EXECUTABLE = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots of every step, for people to look at (gitignored). */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'browser');

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /** Flags on top of the usual ones (a fake microphone, say). */
  args?: string[];
}

/** Headless Chromium with a fresh profile (its --user-data-dir), removed on close. */
export async function launchChromium({ args = [] }: ChromiumOptions = {}): Promise<HeadlessChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'agent-gateway-chromium-'));
  // playwright talks to the browser over a pipe, and the browser exits when that closes: with this
  // worker, however it ends (test/processes/suite-hygiene kills a run to see it).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: [...FLAGS, ...args],
    viewport: { width: 1280, height: 800 },
  });
  const end = async (): Promise<void> => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  const release = own(end);
  return {
    context,
    close: async () => {
      release();
      await end();
    },
  };
}

/** Saves a screenshot as test-artifacts/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
