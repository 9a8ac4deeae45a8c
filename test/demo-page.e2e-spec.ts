import { type RunningGateway, startGateway } from './support/gateway-harness.js';

describe('the demo page, served by the gateway', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({ WS_PATH: '/agent/socket' });
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('serves the page at /, pointing at this gateway’s WebSocket path', async () => {
    const res = await fetch(`${gateway.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<meta name="agent-gateway-ws-path" content="/agent/socket" />');
    expect(html).toContain('<script type="module" src="/demo/demo.js"></script>');
  });

  it('serves the bundle and its stylesheet, and nothing else from there', async () => {
    const js = await fetch(`${gateway.httpUrl}/demo/demo.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${gateway.httpUrl}/demo/demo.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const path of ['/demo/index.html', '/demo/package.json', '/demo/..%2F..%2Fpackage.json']) {
      const missing = await fetch(`${gateway.httpUrl}${path}`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    }
  });

  it('leaves the other endpoints where they were', async () => {
    expect((await fetch(`${gateway.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${gateway.httpUrl}/ready`)).status).toBe(200);
    expect((await fetch(`${gateway.httpUrl}/metrics`)).status).toBe(200);
    const models = await fetch(`${gateway.httpUrl}/v1/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { object: string }).object).toBe('list');
  });
});
