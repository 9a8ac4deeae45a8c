/**
 * `npm start` after its build: the gateway (dist/main.js) in this process
 * when this Node.js is one `engines` admits; else on the Node.js we ship
 * (tools/node, installed on first use), in a child that gets each signal
 * once, as it would have.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { supportedNode } from './runtime.mjs';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const node = supportedNode((/** @type {string} */ message) => process.stderr.write(`[start] ${message}\n`));

if (node === process.execPath) {
  await import(MAIN);
} else {
  // A group of its own: a terminal's Ctrl-C reaches it only through here, once (npm forwards the
  // same signal again, and the gateway reads a second one as "do not wait").
  const child = spawn(node, [MAIN, ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
  const lastSent = new Map();
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      const now = performance.now();
      if (now - (lastSent.get(signal) ?? -Infinity) < 200) return;
      lastSent.set(signal, now);
      child.kill(signal);
    });
  }
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
