/**
 * Which Node.js runs the gateway and its tests. The one we ship is pinned in
 * tools/node/package.json (the npm package `node`, whose dependency is the
 * real binary): the Docker image's major, the one CI tests on. A machine whose
 * own Node.js is another gets that one installed into tools/node, once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOOLS = fileURLToPath(new URL('../tools/node/', import.meta.url));
const PINNED_BINARY = `${TOOLS}node_modules/node/bin/node`;

/** The pinned version, e.g. `24.21.0`. */
export function shippedVersion() {
  const manifest = JSON.parse(readFileSync(`${TOOLS}package.json`, 'utf8'));
  return manifest.dependencies.node;
}

/** The oldest Node.js that package.json's `engines` admits, as [major, minor]. */
export function minimumVersion() {
  const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  const match = /^>=(\d+)\.(\d+)(?:\.\d+)?$/.exec(manifest.engines.node);
  if (!match) throw new Error(`package.json engines.node must be ">=X.Y.Z", not ${manifest.engines.node}`);
  return [Number(match[1]), Number(match[2])];
}

/** @param {string} version */
const major = (version) => Number(version.split('.')[0]);

/** @typedef {(message: string) => void} Log */

/**
 * The shipped Node.js: this process's own when it is that major, else the pinned one (installed on first use).
 * @param {Log} log
 */
export function shippedNode(log) {
  if (major(process.versions.node) === major(shippedVersion())) return process.execPath;
  return pinnedNode(log, `Node.js ${process.versions.node} is not the ${major(shippedVersion())} we ship`);
}

/**
 * A Node.js that `engines` admits: this process's own when it does, else the pinned one.
 * @param {Log} log
 */
export function supportedNode(log) {
  const [wantMajor, wantMinor] = minimumVersion();
  const [haveMajor, haveMinor] = process.versions.node.split('.').map(Number);
  if (haveMajor > wantMajor || (haveMajor === wantMajor && haveMinor >= wantMinor)) return process.execPath;
  return pinnedNode(log, `Node.js ${process.versions.node} is older than the ${wantMajor}.${wantMinor} the gateway needs`);
}

/**
 * @param {Log} log
 * @param {string} why
 */
function pinnedNode(log, why) {
  const want = shippedVersion();
  if (installedVersion() !== want) {
    log(`${why}: installing Node.js ${want} into tools/node (npm ci, once)`);
    // npm_execpath is the npm that runs this script; outside npm, the one on PATH.
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const result = spawnSync(npm[0], [...npm.slice(1), 'ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: TOOLS,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0 || installedVersion() !== want) {
      throw new Error(`could not install Node.js ${want} into tools/node: run "npm ci" there, or install Node.js ${major(want)}`);
    }
  }
  log(`${why}: using Node.js ${want} from tools/node`);
  return PINNED_BINARY;
}

function installedVersion() {
  if (!existsSync(PINNED_BINARY)) return undefined;
  const result = spawnSync(PINNED_BINARY, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}
