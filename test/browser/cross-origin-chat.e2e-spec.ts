import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream } from '../support/fake-upstream.js';
import { type RunningGateway, startGateway } from '../support/gateway-harness.js';
import { own } from '../support/test-resources.js';
import { type HeadlessChromium, launchChromium } from './chromium.js';

const TEST_MS = 60_000;
const KEY = 'sk-browser-app';

declare global {
  interface Window {
    chat: (gateway: string, key: string) => Promise<{ status: number; chunks: number; requestId: string | null }>;
  }
}

/** A browser chat app on its own origin: its fetch, its preflight, its stop button. */
const PAGE = `<!doctype html><script>
window.chat = async (gateway, key) => {
  const abort = new AbortController();
  const response = await fetch(gateway + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
    body: JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    signal: abort.signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while ((text.match(/data: /g) || []).length < 5) text += decoder.decode((await reader.read()).value);
  abort.abort();
  return { status: response.status, chunks: (text.match(/data: /g) || []).length, requestId: response.headers.get('x-request-id') };
};
</script>`;

describe('a browser chat app on another origin', () => {
  let browser: HeadlessChromium;
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let site: Server;

  beforeAll(async () => {
    browser = await launchChromium();
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    own(() => new Promise<void>((resolve) => site.close(() => resolve())));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  }, TEST_MS);

  afterAll(async () => {
    await browser.close();
    site.closeAllConnections();
    await new Promise<void>((resolve) => site.close(() => resolve()));
  });

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      LLM_MODEL: 'fake-model',
      GATEWAY_API_KEYS: KEY,
    });
  });

  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  it(
    'streams through the CORS preflight, reads the request id, and its stop closes the upstream',
    async () => {
      upstream.behavior = { kind: 'stream', intervalMs: 10 };
      const page = await browser.context.newPage();
      // localhost and 127.0.0.1 are two origins: the page's fetch is cross-origin, with a preflight.
      const { port } = site.address() as AddressInfo;
      await page.goto(`http://localhost:${port}/`);
      const result = await page.evaluate(([url, key]) => window.chat(url, key), [gateway.httpUrl, KEY] as const);
      const stoppedAt = performance.now();
      expect(result.status).toBe(200);
      expect(result.chunks).toBeGreaterThanOrEqual(5);
      expect(result.requestId).toMatch(/^chatcmpl-/);
      await expectCutWithin(await upstream.call(0), stoppedAt);
      expect(upstream.calls).toHaveLength(1);
      await page.close();
    },
    TEST_MS,
  );
});
