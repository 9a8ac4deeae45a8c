import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { type ProcessStat, processStat, TICKS_PER_SECOND } from './process-cpu.js';

/** What the rest of the machine is doing, measured over a window: enough to say whether a run's figures are worth publishing. */
export interface MachineLoad {
  loadAverage: number;
  /** CPU used by processes outside this bench (and its children), in cores. */
  otherCores: number;
  busiest?: { pid: number; command: string; cores: number };
}

type ProcessTimes = ProcessStat & { pid: number };

function processTimes(): ProcessTimes[] {
  const all: ProcessTimes[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      all.push({ pid: Number(entry), ...processStat(entry) });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return all;
}

/** This process and everything it started, however deep. */
function ownTree(all: readonly ProcessTimes[]): Set<number> {
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  return mine;
}

/** CPU used by other processes over `windowMs`, from /proc (Linux). */
export async function measureMachineLoad(windowMs = 1000): Promise<MachineLoad> {
  const before = new Map(processTimes().map((p) => [p.pid, p.ticks]));
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = processTimes();
  const seconds = (performance.now() - startedAt) / 1000;
  const mine = ownTree(after);
  let otherCores = 0;
  let busiest: MachineLoad['busiest'];
  for (const p of after) {
    if (mine.has(p.pid)) continue;
    const cores = (p.ticks - (before.get(p.pid) ?? p.ticks)) / TICKS_PER_SECOND / seconds;
    otherCores += cores;
    if (!busiest || cores > busiest.cores) busiest = { pid: p.pid, command: p.command, cores };
  }
  if (busiest) busiest.command = commandLine(busiest.pid) ?? busiest.command;
  return { loadAverage: loadavg()[0], otherCores, ...(busiest && busiest.cores > 0 && { busiest }) };
}

/** A process's command line, shortened (its stat holds only a thread's name, `MainThread` for any node). */
function commandLine(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return line === '' ? undefined : line.slice(0, 80);
  } catch {
    return undefined;
  }
}

export function describeLoad(load: MachineLoad): string {
  const busiest = load.busiest ? `; busiest: ${load.busiest.command} (pid ${load.busiest.pid}) ${load.busiest.cores.toFixed(2)} cores` : '';
  return `${availableParallelism()} cores, load average ${load.loadAverage.toFixed(2)}, other processes ${load.otherCores.toFixed(2)} cores${busiest}`;
}
