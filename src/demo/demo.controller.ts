import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';

/** Built by `npm run build` (client/scripts/demo-bundle.mjs); the same path from src/ and from dist/. */
const DEMO_DIR = new URL('../../client/dist/demo/', import.meta.url);

/** The files of the demo, and only those: a name from the URL never reaches the file system. */
const ASSETS: Record<string, string> = {
  'demo.js': 'text/javascript; charset=utf-8',
  'demo.js.map': 'application/json; charset=utf-8',
  'demo.css': 'text/css; charset=utf-8',
};

/**
 * The demo page, at `/`: a conversation through the client SDK. Static and
 * unauthenticated (the page asks for no key; a gateway with keys needs
 * `?key=` in the URL). Read on each request, so a rebuild shows at once.
 */
@Controller()
export class DemoController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  async page(@Res() res: ServerResponse): Promise<void> {
    const html = await this.read('index.html', res);
    if (html === undefined) return;
    // The page finds the WebSocket where this gateway has it (WS_PATH).
    send(res, 200, 'text/html; charset=utf-8', html.toString('utf8').replace('{{WS_PATH}}', this.config.ws.path));
  }

  @Get('demo/:asset')
  async asset(@Param('asset') asset: string, @Res() res: ServerResponse): Promise<void> {
    const type = Object.hasOwn(ASSETS, asset) ? ASSETS[asset] : undefined;
    if (type === undefined) throw new GatewayError('ROUTE_NOT_FOUND', { message: 'The demo has no such file' });
    const body = await this.read(asset, res);
    if (body !== undefined) send(res, 200, type, body);
  }

  /** The file, or undefined once a 503 saying how to build it has been sent. */
  private async read(file: string, res: ServerResponse): Promise<Buffer | undefined> {
    try {
      return await readFile(new URL(file, DEMO_DIR));
    } catch {
      send(res, 503, 'text/plain; charset=utf-8', 'The demo is not built: run `npm run build`.');
      return undefined;
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(body);
}
