import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../config/config.schema.js';
import { ToolError } from '../server-tool.js';
import { CurrentTimeTool } from './current-time.tool.js';
import { HttpGetTool } from './http-get.tool.js';

describe('get_current_time', () => {
  const tool = new CurrentTimeTool();

  it('tells the time in a time zone, UTC by default', async () => {
    const utc = (await tool.execute({})) as { timezone: string; iso_utc: string; local: string };
    expect(utc.timezone).toBe('UTC');
    expect(Math.abs(Date.parse(utc.iso_utc) - Date.now())).toBeLessThan(5000);
    const paris = (await tool.execute({ timezone: 'Europe/Paris' })) as { local: string };
    expect(paris.local).toMatch(/\d{4}/);
  });

  it('refuses an unknown time zone with a message for the model', async () => {
    await expect(tool.execute({ timezone: 'Mars/Olympus' })).rejects.toThrow(ToolError);
  });
});

describe('http_get', () => {
  let server: Server;
  let origin: string;
  let closed: Promise<void>;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') res.end('x'.repeat(10_000));
      else if (req.url === '/slow') {
        closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        res.writeHead(200).write('partial');
      } else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const port = () => (server.address() as AddressInfo).port;
  /** The test server is on loopback: only reachable where that network, and its port, are allowed. */
  const tool = (hosts: string, env: Record<string, string> = { TOOLS_HTTP_ALLOWED_NETWORKS: '127.0.0.0/8', TOOLS_HTTP_ALLOWED_PORTS: String(port()) }) =>
    new HttpGetTool(loadConfig({ TOOLS_HTTP_ALLOWED_HOSTS: hosts, TOOLS_HTTP_MAX_BYTES: '1000', TOOLS_HTTP_TIMEOUT_MS: '5000', ...env }));

  it('is offered only with an allow-list', () => {
    expect(tool('').enabled).toBe(false);
    expect(tool('127.0.0.1').enabled).toBe(true);
  });

  it('fetches from an allowed host, within the size limit', async () => {
    const get = tool('127.0.0.1');
    expect(await get.execute({ url: `${origin}/` }, new AbortController().signal)).toEqual({
      status: 200,
      content_type: 'text/plain',
      body: 'hello',
      truncated: false,
    });
    const big = (await get.execute({ url: `${origin}/big` }, new AbortController().signal)) as { body: string; truncated: boolean };
    expect(big.body).toHaveLength(1000);
    expect(big.truncated).toBe(true);
    await get.onModuleDestroy();
  });

  it('refuses other hosts and schemes', async () => {
    const get = tool('example.com,*.example.org');
    const signal = new AbortController().signal;
    await expect(get.execute({ url: `${origin}/` }, signal)).rejects.toThrow(/not allowed/);
    await expect(get.execute({ url: 'file:///etc/passwd' }, signal)).rejects.toThrow(/only http/);
    await expect(get.execute({ url: 'not a url' }, signal)).rejects.toThrow(/not a valid URL/);
  });

  it('refuses names and addresses on loopback, private, link-local and other internal ranges, whatever the allow-list says', async () => {
    const signal = new AbortController().signal;
    // An allowed name that resolves to loopback (a wildcard entry, or DNS rebinding, does the same): checked where it connects.
    const byName = tool('localhost', { TOOLS_HTTP_ALLOWED_PORTS: String(port()) });
    await expect(byName.execute({ url: `http://localhost:${port()}/` }, signal)).rejects.toThrow(/resolves to .*(loopback)/);
    await byName.onModuleDestroy();
    const literals = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '[::1]', '[::ffff:127.0.0.1]', '[fd00::1]', '[fe80::1]'];
    // As URL writes them: [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
    const get = tool(literals.map((host) => new URL(`http://${host}/`).hostname.replace(/[[\]]/g, '')).join(','), { TOOLS_HTTP_ALLOWED_PORTS: '80' });
    for (const host of literals) await expect(get.execute({ url: `http://${host}/` }, signal)).rejects.toThrow(/is a .* address|resolves to/);
    await get.onModuleDestroy();
  });

  it('connects only to allowed ports (80 and 443 unless configured)', async () => {
    const get = tool('127.0.0.1', { TOOLS_HTTP_ALLOWED_NETWORKS: '127.0.0.0/8' });
    await expect(get.execute({ url: `${origin}/` }, new AbortController().signal)).rejects.toThrow(/port \d+ is not allowed/);
    await get.onModuleDestroy();
  });

  it('closes the connection the moment its signal aborts', async () => {
    const get = tool('127.0.0.1');
    const abort = new AbortController();
    const pending = get.execute({ url: `${origin}/slow` }, abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort.abort();
    await expect(pending).rejects.toBeDefined();
    await closed;
    await get.onModuleDestroy();
  });
});
