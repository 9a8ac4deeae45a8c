import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ShutdownService } from '../src/lifecycle/shutdown.service.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';

describe('HTTP errors, on every route, in OpenAI’s shape', () => {
  let gateway: RunningGateway;

  beforeEach(async () => {
    gateway = await startGateway({ GATEWAY_API_KEYS: 'key' });
  });

  afterEach(() => gateway.close());

  it.each([
    ['GET', '/v1/nope', 'GET /v1/nope'],
    ['POST', '/nope?token=abc', 'POST /nope'],
    ['GET', '/v1/chat/completions', 'GET /v1/chat/completions'],
    ['DELETE', '/v1/models', 'DELETE /v1/models'],
  ])('answers %s %s, an unknown endpoint, with a 404', async (method, path, named) => {
    const response = await fetch(`${gateway.httpUrl}${path}`, { method, headers: { authorization: 'Bearer key' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      error: { message: `Unknown endpoint: ${named}`, type: 'not_found_error', code: 'ROUTE_NOT_FOUND', param: null },
    });
  });

  it('keeps the other errors of the API as they were', async () => {
    const unauthorized = await fetch(`${gateway.httpUrl}/v1/models`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ error: { code: 'AUTH_FAILED', type: 'authentication_error' } });
  });

  it('says NOT_READY on /ready once it drains for a shutdown', async () => {
    // The listening server stops accepting connections as it drains: the app is asked directly on a server of our own.
    const probe: Server = createServer(gateway.app.getHttpAdapter().getInstance() as RequestListener);
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const ready = () => fetch(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/ready`);
    try {
      expect((await ready()).status).toBe(200);
      await gateway.app.get(ShutdownService).drain('TEST');
      const draining = await ready();
      expect(draining.status).toBe(503);
      expect(await draining.json()).toMatchObject({ error: { code: 'NOT_READY', type: 'api_error' } });
    } finally {
      probe.closeAllConnections();
      await new Promise((resolve) => probe.close(resolve));
    }
  });
});
