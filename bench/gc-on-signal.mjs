// Preloaded into each benchmarked process (with --expose-gc): on SIGUSR2 it
// collects garbage and writes its memory figures to BENCH_MEMORY_FILE, so the
// benchmark compares live memory rather than not-yet-collected garbage.
// With BENCH_LAG_FILE set it also watches its event loop's delay, and on
// SIGURG (ignored by default, so harmless to a process without this file)
// writes the delay since the last SIGURG, in milliseconds, then starts over:
// how late a timer due every 10 ms fired (the histogram holds the whole
// interval between firings; the 10 ms are taken off).
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  writeFileSync(String(process.env.BENCH_MEMORY_FILE), JSON.stringify(process.memoryUsage()));
});

const lagFile = process.env.BENCH_LAG_FILE;
if (lagFile) {
  const resolutionMs = 10;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  process.on('SIGURG', () => {
    /** @param {number} ns */
    const ms = (ns) => Math.max(0, ns / 1e6 - resolutionMs);
    writeFileSync(lagFile, JSON.stringify({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) }));
    delay.reset();
  });
}
