import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startHttpProcess, type RunningProcess } from '../targets.js';

const DIR = 'bench/peers';
const SERVER = `${DIR}/node_modules/@portkey-ai/gateway/build/start-server.js`;

/**
 * The Portkey AI gateway (`@portkey-ai/gateway`, pinned, with the
 * @hono/node-server override its streaming needs), installed on first use
 * into bench/peers and started on `port`.
 */
export async function startPortkey(port: number): Promise<RunningProcess> {
  if (!existsSync(SERVER)) {
    process.stderr.write('installing @portkey-ai/gateway into bench/peers…\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', DIR], { stdio: 'inherit' });
  }
  return startHttpProcess({
    name: 'portkey',
    command: [process.execPath, SERVER, `--port=${port}`, '--headless'],
    readyUrl: `http://127.0.0.1:${port}/`,
  });
}
