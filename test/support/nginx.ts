import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { spawnOwned } from './test-resources.js';

/**
 * nginx (Debian's) with the deployment's own deploy/nginx.conf, its upstream
 * servers pointed at gateway processes of the test: the load balancer
 * docker-compose.yml runs, tried for real.
 */
export class Nginx {
  private constructor(
    private readonly process: ChildProcess,
    private readonly prefix: string,
    readonly port: number,
  ) {}

  static async start(upstreams: Record<'gateway-a' | 'gateway-b', number>): Promise<Nginx> {
    const prefix = await mkdtemp(join(tmpdir(), 'agw-nginx-'));
    await mkdir(join(prefix, 'logs'));
    const port = await freePort();
    let config = await readFile('deploy/nginx.conf', 'utf8');
    for (const [host, upstreamPort] of Object.entries(upstreams)) config = config.replace(`${host}:8000`, `127.0.0.1:${upstreamPort}`);
    config = config.replace('listen 8000;', `listen 127.0.0.1:${port};`);
    await writeFile(join(prefix, 'nginx.conf'), config);
    const child = spawnOwned(
      'nginx',
      ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')}; error_log stderr error;`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // A missing binary or a bad config fails the start at once, instead of a wait for a port that never opens.
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      // 127: setpriv found no nginx to run.
      child.once('exit', (code) =>
        reject(new Error(code === 127 ? 'nginx is not installed (npm test installs it)' : `nginx exited with code ${String(code)}`)),
      );
    });
    failed.catch(() => undefined);
    try {
      await Promise.race([listening(port, child), failed]);
    } catch (error) {
      child.kill('SIGKILL');
      await rm(prefix, { recursive: true, force: true });
      throw error;
    }
    return new Nginx(child, prefix, port);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/agent`;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await exited;
    }
    await rm(this.prefix, { recursive: true, force: true });
  }
}

/** Resolves once the port accepts; gives up when nginx has exited (then `failed` says why). */
async function listening(port: number, nginx: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200 && nginx.exitCode === null; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nginx did not listen on ${port}`);
}
