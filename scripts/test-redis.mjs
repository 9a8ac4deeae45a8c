/**
 * The Redis the tests share: TEST_REDIS_URL, else the machine's on
 * 127.0.0.1:6379, else one started for this run on a free port (and stopped
 * with it).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** @param {string} url */
async function answers(url) {
  // Imported here: this module loads before npm ci may have run.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Sets env.TEST_REDIS_URL when it starts one; returns what to stop at the end, if anything.
 * @param {NodeJS.ProcessEnv} env
 * @param {(message: string) => void} log
 * @returns {Promise<{ stop(): Promise<void> } | undefined>}
 */
export async function startRedisUnlessAnswering(env, log) {
  if (env.TEST_REDIS_URL) {
    if (await answers(env.TEST_REDIS_URL)) return undefined;
    throw new Error(`TEST_REDIS_URL=${env.TEST_REDIS_URL} does not answer`);
  }
  if (await answers('redis://127.0.0.1:6379')) return undefined;
  const port = await freePort();
  log(`no Redis answers on 127.0.0.1:6379: starting one for this run on ${port}`);
  // It dies with this runner, even if the runner is killed.
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; !(await answers(url)); attempt++) {
    if (attempt > 100 || child.exitCode !== null) throw new Error(`could not start redis-server on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  env.TEST_REDIS_URL = url;
  return {
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
