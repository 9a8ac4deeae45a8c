import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { processesOfRun } from '../../scripts/run-processes.mjs';
import { sleep } from '../support/test-client.js';

const RUN_MS = 120_000;

/**
 * The suite ends everything it starts: jest runs of our own suites, made to
 * fail, interrupted or killed mid-way, and afterwards no process of theirs is
 * left (found by the AGW_TEST_RUN marker that every process they start
 * inherits, whoever its parent is by then).
 */
describe('a jest run that fails, is interrupted or is killed leaves no process behind', () => {
  let run: JestRun | undefined;

  afterEach(() => {
    // Whatever went wrong above, none of it outlives this test.
    run?.killAll();
    run = undefined;
  });

  it(
    'fails on its own when nginx is missing, after starting gateways, exits, and leaves none of them',
    async () => {
      run = JestRun.start(['test/processes/load-balancer.e2e-spec.ts'], { PATH: pathWithout('nginx') });
      const { code, signal } = await run.exited(RUN_MS);
      expect(run.output).toContain('nginx is not installed');
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      // It started gateways before it failed (they are what would leak).
      expect(run.seen.some((p) => p.includes('dist/main.js'))).toBe(true);
      expect(processesOfRun(run.id)).toEqual([]);
    },
    RUN_MS,
  );

  it(
    'interrupted mid-test (SIGINT to jest alone, not to the gateways it started), exits and leaves no gateway',
    async () => {
      run = JestRun.start(['test/processes/cluster.e2e-spec.ts']);
      await run.until((commands) => commands.filter((c) => c.includes('dist/main.js')).length >= 2, RUN_MS / 2);
      run.signalJest('SIGINT');
      const { code, signal } = await run.exited(20_000);
      expect(code === 0 && signal === null).toBe(false);
      // The kernel kills a dead worker's gateways (pdeathsig) as the worker goes: a moment, on a loaded machine.
      const deadline = performance.now() + 5_000;
      while (processesOfRun(run.id).length > 0 && performance.now() < deadline) await sleep(50);
      expect(processesOfRun(run.id)).toEqual([]);
    },
    RUN_MS,
  );

  it(
    'killed outright (SIGKILL to its process group), leaves no browser either: the kernel ends what the test started',
    async () => {
      run = JestRun.start(['test/browser/demo.e2e-spec.ts']);
      // Chromium runs in a process group of its own, which the SIGKILL below does not reach.
      await run.until((commands) => commands.some((c) => c.includes('chromium')), RUN_MS / 2);
      run.signalGroup('SIGKILL');
      await run.exited(5_000);
      const deadline = performance.now() + 5_000;
      while (processesOfRun(run.id).length > 0 && performance.now() < deadline) await sleep(50);
      expect(processesOfRun(run.id)).toEqual([]);
    },
    RUN_MS,
  );
});

/** A jest run of some of our suites, in a process group of its own, as a terminal would start it. */
class JestRun {
  output = '';
  /** Every command line of the run's processes seen so far. */
  readonly seen: string[] = [];
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly watcher: NodeJS.Timeout;

  private constructor(
    readonly id: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // Processes come and go between two looks: look often, so that `seen` holds each.
    this.watcher = setInterval(() => this.look(), 25);
  }

  static start(files: string[], env: Record<string, string> = {}): JestRun {
    const id = randomUUID();
    const jest = 'node_modules/jest/bin/jest.js';
    const child = spawn(process.execPath, ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', jest, '--ci', ...files], {
      env: { ...process.env, AGW_TEST_RUN: id, AGW_TEST_BUILT: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new JestRun(id, child);
  }

  private look(): void {
    for (const { command } of processesOfRun(this.id)) if (!this.seen.includes(command)) this.seen.push(command);
  }

  async until(test: (commands: string[]) => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!test(processesOfRun(this.id).map((p) => p.command))) {
      if (performance.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms; output:\n${this.output.slice(-2000)}`);
      await sleep(25);
    }
  }

  signalJest(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  async exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`jest did not exit within ${timeoutMs} ms; output:\n${this.output.slice(-2000)}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
      clearInterval(this.watcher);
    }
  }

  killAll(): void {
    clearInterval(this.watcher);
    for (const { pid } of processesOfRun(this.id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** PATH without the folders that hold `command`. */
function pathWithout(command: string): string {
  const has = (dir: string): boolean => {
    try {
      accessSync(join(dir, command));
      return true;
    } catch {
      return false;
    }
  };
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !has(dir))
    .join(delimiter);
}
