// Preloaded into each benchmarked process (with --expose-gc): on SIGUSR2 it
// collects garbage and writes its memory figures to BENCH_MEMORY_FILE, so the
// benchmark compares live memory rather than not-yet-collected garbage.
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  writeFileSync(String(process.env.BENCH_MEMORY_FILE), JSON.stringify(process.memoryUsage()));
});
