import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../scripts/system-tools.mjs';

/**
 * `npm test` on a machine that lacks the suite's programs, for a user who may
 * not install them: it stops within seconds, with one message that says
 * what to install and the exact command.
 */
describe('the test command, for a user who cannot install what the suite needs', () => {
  let bin: string;

  beforeAll(async () => {
    // A PATH with Node.js and apt-get, and none of the suite's programs but nginx (in /usr/sbin,
    // which the command always searches; npm test installed it before this ran).
    bin = await mkdtemp(join(tmpdir(), 'agw-bare-path-'));
    await chmod(bin, 0o755);
    await symlink(process.execPath, join(bin, 'node'));
    await symlink('/usr/bin/apt-get', join(bin, 'apt-get'));
  });

  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it('fails at once, naming each program, what it is for, and the apt-get command', async () => {
    // As nobody (setpriv, util-linux): not root, and no sudo on this PATH.
    const child = spawn(
      which('setpriv')!,
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, 'scripts/test.mjs'],
      {
        env: { PATH: bin, HOME: bin },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const startedAt = performance.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('exit', resolve);
      child.once('error', reject);
    });

    expect(code).toBe(1);
    expect(performance.now() - startedAt).toBeLessThan(10_000);
    for (const program of ['espeak-ng', 'pocketsphinx_continuous', 'chromium', 'redis-server', 'curl', 'setpriv'])
      expect(output).toContain(`  ${program}: `);
    expect(output).toContain('not root, no password-less sudo');
    expect(output).toContain(
      'sudo apt-get install -y --no-install-recommends espeak-ng pocketsphinx pocketsphinx-en-us chromium redis-server curl util-linux',
    );
    // One message: no stack trace.
    expect(output).not.toMatch(/\n\s+at /);
  });
});
