// Preloaded into a worker process by the bench (NODE_OPTIONS="--expose-gc --import=<this file>"):
// on SIGUSR2 it runs a full garbage collection and writes process.memoryUsage() to
// $HLSDUMP_BENCH_PROBE_DIR/<pid>.json, so the bench reads live heap after GC instead of RSS noise.
// The worker's own code is untouched.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { join } from 'node:path';
import process from 'node:process';

const dir = process.env.HLSDUMP_BENCH_PROBE_DIR;
if (dir && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    const t0 = performance.now();
    globalThis.gc();
    globalThis.gc();
    const usage = { ...process.memoryUsage(), gcMs: performance.now() - t0, at: Date.now() };
    const path = join(dir, `${process.pid}.json`);
    // A heap snapshot too, when the bench asked for one (a marker file naming the output).
    const marker = join(dir, `${process.pid}.snapshot-request`);
    if (existsSync(marker)) {
      rmSync(marker);
      usage.snapshot = v8.writeHeapSnapshot(join(dir, `${process.pid}-${Date.now()}.heapsnapshot`));
    }
    writeFileSync(`${path}.tmp`, JSON.stringify(usage));
    renameSync(`${path}.tmp`, path);
  });
}
