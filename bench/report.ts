import { describeLoad, measureMachineLoad } from './machine-load.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// gc() exposed here rather than by a flag, so that `npm run bench` stays a plain `tsx bench/run.ts`.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

export type Row = [figure: string, gateway: string, floor: string, ratio: string];

/** More than this, in cores, used by other processes while a suite ran, and its tables are not for publishing. */
const QUIET_CORES = 0.25;

/** Why this run's tables are not to be published, if they are not. */
const busy: string[] = [];

export function ratio(ours: number, floor: number): string {
  return Number.isFinite(ours / floor) ? `${(ours / floor).toFixed(2)}×` : 'n/a';
}

/** Prints the machine's load before a suite; a busy machine marks the run's tables as not for publishing. */
export async function checkMachine(suite: string): Promise<void> {
  // The bench process is every target's client and fake provider: each target starts with its garbage from the suites before collected.
  collectGarbage();
  const load = await measureMachineLoad();
  process.stderr.write(`machine before ${suite}: ${describeLoad(load)}\n`);
  if (load.otherCores > QUIET_CORES) busy.push(`${suite}: ${describeLoad(load)}`);
}

/** Writes a Markdown table; on a run where the machine was busy, under a banner that says it is not for the README. */
export function writeTable(lines: readonly string[]): void {
  const banner =
    busy.length > 0 ? `> NOT FOR PUBLISHING: other processes used more than ${QUIET_CORES} cores (${busy.join('; ')})\n\n` : '';
  process.stdout.write(`\n${banner}${lines.join('\n')}\n`);
}

/** A Markdown table, ready for the README. */
export function printTable(title: string, rows: Row[]): void {
  writeTable([`| ${title} | gateway | floor | gateway/floor (cost) |`, '|---|---:|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)]);
}
