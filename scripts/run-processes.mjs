/**
 * The processes of one test run, found by the AGW_TEST_RUN=<id> that the run
 * puts in jest's environment: every process started under it inherits it,
 * however it was started and whoever its parent is now.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every live process whose environment has AGW_TEST_RUN=runId.
 * @param {string} runId
 * @returns {{ pid: number, command: string }[]}
 */
export function processesOfRun(runId) {
  const marker = Buffer.from(`AGW_TEST_RUN=${runId}\0`);
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`);
      if (!environ.includes(marker)) continue;
      // A zombie has exited already: only its parent's wait is missing.
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(name), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * After the run: what is still running a moment later (a process may be
 * finishing its exit) is killed, and described.
 * @param {string} runId
 * @returns {Promise<string[]>}
 */
export async function sweep(runId, graceMs = 1000) {
  const deadline = performance.now() + graceMs;
  let left = processesOfRun(runId);
  while (left.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = processesOfRun(runId);
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return left.map(({ pid, command }) => `${pid} ${command.slice(0, 160)}`);
}
