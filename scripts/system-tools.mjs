/**
 * The programs the suite runs that npm cannot install: found on PATH (or in
 * the sbin folders, where Debian puts nginx), installed with apt-get when
 * this user may (root, or sudo without a password), else named in one
 * message with the exact command.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** @typedef {{ command: string, debian: string, for: string }} Tool */

/**
 * Every program the full suite needs, with the Debian package that has it and what it is for.
 * @type {Tool[]}
 */
export const SUITE_TOOLS = [
  { command: 'espeak-ng', debian: 'espeak-ng', for: 'the embedded speech engine' },
  { command: 'pocketsphinx_continuous', debian: 'pocketsphinx pocketsphinx-en-us', for: 'the embedded speech recognizer (voice input)' },
  { command: 'chromium', debian: 'chromium', for: 'the browser tests (playwright-core drives /usr/bin/chromium)' },
  { command: 'nginx', debian: 'nginx-light', for: "docker-compose.yml's load balancer, in test/load-balancer" },
  { command: 'redis-server', debian: 'redis-server', for: 'the Redis servers the cluster tests start and kill' },
  { command: 'curl', debian: 'curl', for: 'the chat-completions tests that stop a stream with Ctrl-C' },
  { command: 'setpriv', debian: 'util-linux', for: 'tying every process a test starts to the test' },
];

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The folders searched for programs: PATH, then the sbin folders it lacks. */
export function searchPath(path = process.env.PATH ?? '') {
  const dirs = path.split(delimiter).filter(Boolean);
  return [...dirs, ...SBIN.filter((dir) => !dirs.includes(dir))].join(delimiter);
}

/**
 * Where a program is, or undefined.
 * @param {string} command
 */
export function which(command, path = searchPath()) {
  for (const dir of path.split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * How this user can run apt-get as root: [] as root, ['sudo', '-n'] with password-less sudo, or undefined.
 * @returns {string[] | undefined}
 */
function asRoot() {
  if (!which('apt-get')) return undefined;
  if (process.getuid?.() === 0) return [];
  if (which('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return undefined;
}

/**
 * Makes sure every tool is there. Installs what is missing when it can;
 * otherwise throws one error whose message says what to install and how.
 * @param {Tool[]} tools
 * @param {(message: string) => void} log
 */
export function ensureTools(tools, log) {
  const missing = tools.filter((tool) => !which(tool.command));
  if (missing.length === 0) return;
  const names = missing.map((tool) => tool.command).join(', ');
  const packages = [...new Set(missing.flatMap((tool) => tool.debian.split(' ')))];
  const root = asRoot();
  if (!root) {
    const reasons = missing.map((tool) => `  ${tool.command}: ${tool.for}`).join('\n');
    const command = which('apt-get')
      ? `sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`
      : `your package manager's ${packages.join(', ')} (Debian package names)`;
    throw new Error(
      `the test suite needs ${names}, which ${missing.length === 1 ? 'is' : 'are'} not installed:\n${reasons}\n` +
        `This user cannot install ${missing.length === 1 ? 'it' : 'them'} (not root, no password-less sudo). Install with:\n  ${command}\nthen run the tests again.`,
    );
  }
  log(`installing ${packages.join(' ')} with apt-get (for ${names})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (/** @type {string[]} */ args) => {
    const command = [...root, 'apt-get', ...args];
    const result = spawnSync(String(command[0]), command.slice(1), { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) throw new Error(`${command.join(' ')} failed (exit code ${String(result.status)})`);
  };
  run(['update', '-qq']);
  run(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  const still = missing.filter((tool) => !which(tool.command));
  if (still.length > 0)
    throw new Error(`apt-get installed ${packages.join(' ')} but ${still.map((t) => t.command).join(', ')} is still not found`);
}
