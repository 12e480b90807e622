// Preloaded into a service process (`node --expose-gc --import=<this file>`; see heap-probe.ts):
// on SIGUSR2 it runs a full garbage collection and writes process.memoryUsage() to
// $HLSDUMP_HEAP_PROBE_DIR/<pid>.json, so a reader sees the live heap after GC instead of RSS noise.
// The service's own code is untouched. Node runs this file as it is (type stripping).
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import v8 from 'node:v8';

const dir = process.env.HLSDUMP_HEAP_PROBE_DIR;
const gc = (globalThis as { gc?: () => void }).gc;
if (dir && gc) {
  process.on('SIGUSR2', () => {
    const t0 = performance.now();
    gc();
    gc();
    const report: Record<string, unknown> = {
      ...process.memoryUsage(),
      gcMs: performance.now() - t0,
      at: Date.now(),
    };
    const path = join(dir, `${process.pid}.json`);
    // A heap snapshot too, when the reader asked for one (a marker file beside the report).
    const marker = join(dir, `${process.pid}.snapshot-request`);
    if (existsSync(marker)) {
      rmSync(marker);
      report.snapshot = v8.writeHeapSnapshot(
        join(dir, `${process.pid}-${Date.now()}.heapsnapshot`),
      );
    }
    writeFileSync(`${path}.tmp`, JSON.stringify(report));
    renameSync(`${path}.tmp`, path);
  });
}
