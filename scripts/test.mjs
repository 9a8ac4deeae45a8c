/**
 * `npm test` (the whole suite) and `npm run test:quick` (`--quick`: unit specs
 * and in-process e2e). Does its own set-up: the npm dependencies, the
 * programs the suite runs (installed with apt-get when it may), the Node.js
 * we ship, a Redis when none answers. Then the type check, the code's rules
 * (`npm run lint`: layers and circles, ESLint, Prettier, knip; not with
 * `--quick`) and jest, on that Node.js; a broken rule fails the run, after
 * jest has run. Every process of the run carries AGW_TEST_RUN in its environment:
 * when jest has exited, one still running is a leak, killed and reported.
 *
 * Other arguments go to jest: `npm test -- test/interrupt.e2e-spec.ts -t ACK`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sweep } from './run-processes.mjs';
import { startRedisUnlessAnswering } from './test-redis.mjs';
import { shippedNode } from './runtime.mjs';
import { ensureTools, searchPath, SUITE_TOOLS } from './system-tools.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const QUICK_PROJECTS = ['unit', 'e2e'];
/** `npm run <check>`, each: the rules the code keeps (package.json). */
const CHECKS = ['lint:deps', 'lint:code', 'lint:format', 'lint:unused'];
/** The programs the quick subset needs (no browser, no load balancer). */
const QUICK_TOOLS = SUITE_TOOLS.filter((tool) => !['chromium', 'nginx'].includes(tool.command));

const log = (/** @type {string} */ message) => process.stderr.write(`[test] ${message}\n`);

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jestArgs = args.filter((arg) => arg !== '--quick');

async function main() {
  const started = performance.now();
  ensureTools(quick ? QUICK_TOOLS : SUITE_TOOLS, log);
  const node = shippedNode(log);
  if (!existsSync(`${ROOT}node_modules/.package-lock.json`)) {
    log('no node_modules: npm ci');
    run(node, [npmCli(), 'ci', '--no-audit', '--no-fund']);
  }
  const runId = randomUUID();
  // That Node.js first on PATH: what npm runs (the rules' programs) runs on it too.
  const env = { ...process.env, PATH: [dirname(node), searchPath()].join(delimiter), AGW_TEST_RUN: runId };
  const redis = await startRedisUnlessAnswering(env, log);
  try {
    log(`type check (Node.js ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()})`);
    for (const project of ['tsconfig.json', 'protocol/tsconfig.json', 'client/tsconfig.json']) {
      run(node, ['node_modules/typescript/bin/tsc', '-p', project, '--noEmit'], env);
    }
    const broken = quick ? [] : CHECKS.filter((check) => !passes(node, [npmCli(), 'run', '--silent', check], env));
    const selection = quick ? ['--selectProjects', ...QUICK_PROJECTS] : [];
    const tests = await jest(node, [...selection, ...jestArgs], env);
    if (broken.length > 0) log(`broken rules: ${broken.map((check) => `npm run ${check}`).join(', ')} (see above)`);
    const code = tests !== 0 ? tests : broken.length > 0 ? 1 : 0;
    const leaked = await sweep(runId);
    if (leaked.length > 0) {
      log(`the run left ${leaked.length} process(es) running, now killed (a test must end all it starts):`);
      for (const line of leaked) log(`  ${line}`);
    }
    log(`${code === 0 && leaked.length === 0 ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return code !== 0 ? code : leaked.length > 0 ? 1 : 0;
  } finally {
    await redis?.stop();
  }
}

/** The npm that runs this script (or the one beside this Node.js). */
function npmCli() {
  if (process.env.npm_execpath) return process.env.npm_execpath;
  throw new Error('run this through npm (npm test), or run npm ci first');
}

/**
 * @param {string} command
 * @param {string[]} commandArgs
 */
function run(command, commandArgs, env = process.env) {
  const result = spawnSync(command, commandArgs, { cwd: ROOT, env, stdio: 'inherit' });
  if (result.status !== 0) {
    log(`${commandArgs.slice(0, 2).join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

/**
 * @param {string} command
 * @param {string[]} commandArgs
 * @param {NodeJS.ProcessEnv} env
 */
function passes(command, commandArgs, env) {
  log(commandArgs.slice(1).join(' '));
  return spawnSync(command, commandArgs, { cwd: ROOT, env, stdio: 'inherit' }).status === 0;
}

/**
 * jest, in a process group of its own so that a stop reaches all of it: Ctrl-C
 * or a SIGTERM to this runner goes to the whole group, as a terminal's would.
 * @param {string} node
 * @param {string[]} jestArguments
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>}
 */
function jest(node, jestArguments, env) {
  const child = spawn(
    node,
    ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', 'node_modules/jest/bin/jest.js', ...jestArguments],
    {
      cwd: ROOT,
      env,
      stdio: 'inherit',
      detached: true,
    },
  );
  const forward = (/** @type {NodeJS.Signals} */ signal) => {
    log(`${signal}: stopping jest`);
    try {
      process.kill(-Number(child.pid), signal);
    } catch {
      // already gone
    }
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
