import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

/**
 * What a test starts ends with it: processes (gateways, nginx, Redis
 * servers, Chromium), servers (fake providers, proxies, in-process gateways)
 * and clients register here.
 * - test/support/end-test-resources.ts ends what a test (or its beforeEach)
 *   started when the test ends, and what a beforeAll started when the file
 *   ends, whatever the test's own clean-up did or failed to do: a failing
 *   test leaves nothing to hold the next one, or jest, up.
 * - A process is also tied to this jest worker by the kernel
 *   (`setpriv --pdeathsig KILL`, from util-linux): it dies with the worker,
 *   however the worker dies.
 */
interface Resource {
  end(): Promise<void> | void;
  /** Started by a test (or its beforeEach), not by a beforeAll. */
  inTest: boolean;
}

const resources = new Set<Resource>();
let inTest = false;

/**
 * Registers something a test started; `end` ends it. Returns what its own
 * stop calls, so that it is not ended twice.
 */
export function own(end: () => Promise<void> | void): () => void {
  const resource = { end, inTest };
  resources.add(resource);
  return () => resources.delete(resource);
}

/** spawn(), tied to this worker and owned by the running test (or file). */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  // setpriv execs the command in its own process, with the kernel's promise to kill it when its parent dies.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], options);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const release = own(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  void exited.then(release);
  return child;
}

export function testStarted(): void {
  inTest = true;
}

/** Ends what the test started; resolves once it is all gone. */
export async function testEnded(): Promise<void> {
  inTest = false;
  await endAll((resource) => resource.inTest);
}

/** Ends everything still there; resolves once it is all gone. */
export async function fileEnded(): Promise<void> {
  await endAll(() => true);
}

async function endAll(which: (resource: Resource) => boolean): Promise<void> {
  const ending = [...resources].filter(which);
  for (const resource of ending) resources.delete(resource);
  await Promise.allSettled(ending.map(async (resource) => resource.end()));
}
