import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from '../support/fake-upstream.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { TestClient } from '../support/test-client.js';

const KEY = 'secrets-key';
/** Another key-looking string an upstream or a proxy in front of it might echo. */
const OTHER_SECRET = 'sk-proj-Zq8vX2mN4pL6rT0yW3bC5dF7';

/**
 * Providers (and the proxies in front of them) sometimes echo the request's
 * Authorization header in their error text. The provider key never reaches
 * a client or the log; nor does anything else that looks like a key.
 */
describe('provider error text, scrubbed of keys', () => {
  let upstream: FakeUpstream;
  let gateway: GatewayProcess;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    gateway = await GatewayProcess.start({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      GATEWAY_API_KEYS: KEY,
      TTS_PROVIDER: 'none',
      LOG_LEVEL: 'debug',
    });
  });

  afterEach(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  const echoing = (status: number) => ({
    kind: 'status' as const,
    status,
    body: JSON.stringify({
      error: {
        message: `Invalid request. Headers: {"authorization": "Bearer ${DEFAULT_UPSTREAM_KEY}", "x-api-key": "${OTHER_SECRET}"} api_key=${DEFAULT_UPSTREAM_KEY}`,
        type: 'invalid_request_error',
      },
    }),
  });
  const leaks = (text: string) => text.includes(DEFAULT_UPSTREAM_KEY) || text.includes(OTHER_SECRET);

  it.each([400, 401, 500])('keeps the keys out of a %i answer, to HTTP and WebSocket clients and in the log', async (status) => {
    upstream.behavior = echoing(status);
    const response = await fetch(`${gateway.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await response.text();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(leaks(text)).toBe(false);
    if (status === 400) expect(text).toContain('Invalid request');

    const client = await TestClient.registered(gateway.wsUrl, { auth: { auth_type: 'API_KEY', api_key: KEY } });
    client.request('r1');
    await client.endOf('r1');
    client.close();
    expect(leaks(JSON.stringify(client.received))).toBe(false);

    // Both failures were logged, scrubbed.
    await gateway.waitForLog((line) => line.msg === 'request failed');
    await gateway.waitForLog((line) => line.msg === 'model call failed');
    expect(gateway.logs.filter((line) => leaks(JSON.stringify(line)))).toEqual([]);
  });

  it('keeps every part of the key out, where a cut would have split it, and when the provider escapes it', async () => {
    // Any ten characters of it in a row (eight would find 'upstream' in the gateway's own log lines).
    const keyParts = (text: string) =>
      [...Array(DEFAULT_UPSTREAM_KEY.length - 9).keys()].some((i) => text.includes(DEFAULT_UPSTREAM_KEY.slice(i, i + 10)));
    for (let filler = 440; filler <= 500; filler += 3) {
      upstream.behavior = {
        kind: 'status',
        status: 400,
        body: JSON.stringify({
          error: { message: `Invalid 'user' field '${'u'.repeat(filler)}'. Incorrect API key provided: ${DEFAULT_UPSTREAM_KEY}` },
        }),
      };
      const response = await fetch(`${gateway.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await response.text();
      expect(keyParts(text)).toBe(false);
      // Nor its first characters where the message was cut.
      expect(text).not.toContain(`provided: ${DEFAULT_UPSTREAM_KEY.slice(0, 4)}`);
    }
    // Escaped in the JSON it sends: written out plainly, then scrubbed, before the log sees it.
    const escaped = Array.from(DEFAULT_UPSTREAM_KEY, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    upstream.behavior = { kind: 'status', status: 500, body: `{"error":{"message":"internal: ${escaped}"}}` };
    await fetch(`${gateway.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await gateway.waitForLog((line) => line.msg === 'model call failed' && JSON.stringify(line).includes('internal'));
    expect(gateway.logs.filter((line) => keyParts(JSON.stringify(line)) || JSON.stringify(line).includes(escaped))).toEqual([]);
  });
});
