import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildDemo } from '../client/scripts/demo-bundle.mjs';

/**
 * Once per run: dist/ for the tests that start the gateway as a process (as
 * `npm start` does), and the demo page's bundle, which the browser tests load
 * from the gateway.
 */
export default async function globalSetup() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  await buildDemo();
}
