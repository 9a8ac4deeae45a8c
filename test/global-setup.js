import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildDemo } from '../client/scripts/demo-bundle.mjs';

/**
 * Once per run: dist/ (and the protocol package's) for the tests that start the gateway as a process (as
 * `npm start` does), and the demo page's bundle, which the browser tests load
 * from the gateway. A jest run that a test starts (test/processes/
 * suite-hygiene) finds them built already: AGW_TEST_BUILT=1.
 */
export default async function globalSetup() {
  if (process.env.AGW_TEST_BUILT === '1') return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // The protocol package first: dist/ imports it from its own dist/.
  execFileSync(process.execPath, [tsc, '-p', 'protocol/tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  await buildDemo();
}
