import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc times (USER_HZ: 100 on every architecture Node runs on). */
export const TICKS_PER_SECOND = 100;

/** What the bench reads of a process's /proc/<pid>/stat (Linux). */
export interface ProcessStat {
  ppid: number;
  command: string;
  /** User and system CPU used so far, in clock ticks. */
  ticks: number;
}

export function processStat(pid: number | string): ProcessStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command is in parentheses and may hold spaces: the fields after the last ')' are plain.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { ppid: Number(fields[1]), command: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** User and system CPU a process has used so far, in seconds. */
export function processCpuSeconds(pid: number): number {
  return processStat(pid).ticks / TICKS_PER_SECOND;
}
