import type { Locator, Page } from 'playwright-core';
import { type RunningGateway, startGateway } from '../support/gateway-harness.js';
import { type HeadlessChromium, launchChromium, screenshot } from './chromium.js';

/** Generous: two cores, espeak-ng and Chromium share them with other test files. */
const WAIT_MS = 45_000;
const TEST_MS = 120_000;

/**
 * The demo page in headless Chromium, against a gateway as it runs out of the
 * box: the simulated model, espeak-ng speech, no keys.
 */
describe('the demo page in Chromium', () => {
  let gateway: RunningGateway;
  let browser: HeadlessChromium;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  }, TEST_MS);

  afterAll(async () => {
    await browser.close();
  });

  beforeEach(async () => {
    gateway = await startGateway();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(gateway.httpUrl);
    await page.locator('#status[data-status="open"]').waitFor();
  });

  afterEach(async () => {
    await page.close();
    await gateway.close();
  });

  const nth = (index: number) => `#transcript .turn:nth-child(${index + 1})`;
  const turn = (index: number) => page.locator(nth(index));
  const textOf = async (locator: Locator) => (await locator.textContent()) ?? '';
  const replyText = (of: Locator) => textOf(of.locator('.bubble.assistant'));
  const send = async (text: string) => {
    await page.fill('#message', text);
    await page.press('#message', 'Enter');
  };
  /** Resolves once the turn's reply is longer than `chars` and `heardFrames` of its audio have played, checked on every DOM change. */
  const turnReaches = (selector: string, { chars = -1, heardFrames = 0 }: { chars?: number; heardFrames?: number }) =>
    page.evaluate(
      ({ selector, chars, heardFrames }) =>
        new Promise<void>((resolve) => {
          const reached = () => {
            const turn = document.querySelector<HTMLElement>(selector);
            const length = turn?.querySelector('.bubble.assistant')?.textContent.length ?? 0;
            return turn !== null && length > chars && Number(turn.dataset.heardFrames ?? 0) >= heardFrames;
          };
          if (reached()) return resolve();
          const observer = new MutationObserver(() => {
            if (!reached()) return;
            observer.disconnect();
            resolve();
          });
          observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        }),
      { selector, chars, heardFrames },
    );
  const inState = (of: Locator, state: string) => of.and(page.locator(`[data-state="${state}"]`)).waitFor();

  it(
    'streams a reply, stops it at once, shows the latencies, and keeps what was heard',
    async () => {
      await screenshot(page, 'stop-0-ready');
      expect(await textOf(page.locator('#engine'))).toBe('simulated model · voice: espeak');
      await send('Tell me a story');
      const story = turn(0);
      await turnReaches(nth(0), { chars: 120 });
      expect(await story.getAttribute('data-state')).toBe('streaming');
      // The user has heard a little of it: the page has reported that playback to the gateway.
      await turnReaches(nth(0), { heardFrames: 5 });
      await screenshot(page, 'stop-1-streaming');

      await page.click('#stop');
      await inState(story, 'interrupted');
      const stoppedAt = await replyText(story);
      expect(await textOf(story.locator('.mark').last())).toContain('interrupted (USER_STOP)');
      // A row appears when the ACK arrives, with the ACK's latency and the gateway's time to close the model stream.
      const figures = page.locator('#interrupts tbody tr').first();
      expect(await textOf(figures.locator('td.ack'))).toMatch(/^\d+(\.\d+)? ms$/);
      expect(await textOf(figures.locator('td.upstream'))).toMatch(/^\d+(\.\d+)? ms$/);
      await screenshot(page, 'stop-2-interrupted');

      // A whole reply later, not a word more has arrived for the stopped one.
      await send('What time is it?');
      await inState(turn(1), 'finished');
      expect(await replyText(story)).toBe(stoppedAt);

      // Cut where the user stopped listening: struck out on the page, and gone from the history the gateway keeps.
      const unheard = await textOf(story.locator('.unheard'));
      expect(unheard.length).toBeGreaterThan(0);
      const heard = stoppedAt.slice(0, stoppedAt.length - unheard.length);
      const kept = page.locator('#history li[data-role="assistant"][data-interrupted="heard"]');
      expect(await textOf(kept)).toBe(`assistant${heard}interrupted (USER_STOP) · kept what was heard`);
      await screenshot(page, 'stop-3-history');
    },
    TEST_MS,
  );

  it(
    'barges in when the user types again',
    async () => {
      await send('Tell me a story');
      await turnReaches(nth(0), { chars: 80 });
      await screenshot(page, 'barge-in-1-streaming');
      await send('What time is it?');
      await inState(turn(0), 'interrupted');
      expect(await textOf(turn(0).locator('.mark').last())).toContain('interrupted (USER_NEW_INPUT)');
      await inState(turn(1), 'finished');
      expect(await replyText(turn(1))).toMatch(/^It is /);
      expect(await textOf(page.locator('#interrupts tbody tr').first().locator('td').nth(1))).toBe('USER_NEW_INPUT');
      await screenshot(page, 'barge-in-2-answered');
    },
    TEST_MS,
  );

  it(
    'resumes a durable reply after a reload, from its first word, and goes on',
    async () => {
      await send('Tell me a story');
      await turnReaches(nth(0), { chars: 100 });
      const requestId = await turn(0).getAttribute('data-request-id');
      const beforeReload = await replyText(turn(0));
      await screenshot(page, 'reload-1-before');

      await page.reload();
      await page.locator('#status[data-status="open"]').waitFor();
      const resumedSelector = `#transcript .turn[data-request-id="${requestId}"]`;
      const resumed = page.locator(resumedSelector);
      await turnReaches(resumedSelector, { chars: beforeReload.length + 40 });
      expect(await resumed.getAttribute('data-state')).toBe('streaming');
      expect((await replyText(resumed)).startsWith(beforeReload)).toBe(true);
      expect(await textOf(resumed.locator('.bubble.user'))).toBe('Tell me a story');
      await screenshot(page, 'reload-2-resumed');

      await page.click('#stop');
      await inState(resumed, 'interrupted');
      await screenshot(page, 'reload-3-stopped');
    },
    TEST_MS,
  );
});
