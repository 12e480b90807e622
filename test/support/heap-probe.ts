// The live heap of a service process, read from outside: the process is started with
// heap-probe-preload.ts preloaded (`heapProbeNodeArgs()`, `heapProbeEnv(dir)`), and `probeHeap()`
// sends it SIGUSR2 and reads what it wrote after a full GC.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './spawn-node.ts';

export const HEAP_PROBE_PRELOAD = join(REPO_ROOT, 'test/support/heap-probe-preload.ts');

/** Node flags that preload the probe (on the command line or in NODE_OPTIONS). */
export function heapProbeNodeArgs(): string[] {
  return ['--expose-gc', `--import=${HEAP_PROBE_PRELOAD}`];
}

/** The environment telling the probe where to write its reports. */
export function heapProbeEnv(dir: string): Record<string, string> {
  return { HLSDUMP_HEAP_PROBE_DIR: dir };
}

/** What the probe writes: process.memoryUsage() after a full GC, and how long the GC took. */
export interface HeapReport {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gcMs: number;
  snapshot?: string;
}

/** heapUsed + external: the live heap after a full GC. */
export function liveBytes(report: HeapReport | undefined): number | undefined {
  return report === undefined ? undefined : report.heapUsed + report.external;
}

/** Sends SIGUSR2 to a probed process and waits for its report; undefined if none comes. */
export async function probeHeap(
  pid: number | undefined,
  dir: string,
  timeoutMs = 5000,
): Promise<HeapReport | undefined> {
  if (pid === undefined) return undefined;
  const path = join(dir, `${pid}.json`);
  await rm(path, { force: true });
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(25);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as HeapReport;
    } catch {
      // Not written yet.
    }
  }
  return undefined;
}

/** A heap snapshot of a probed process (after a full GC); its path. */
export async function heapSnapshot(
  pid: number | undefined,
  dir: string,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  if (pid === undefined) return undefined;
  await writeFile(join(dir, `${pid}.snapshot-request`), '');
  return (await probeHeap(pid, dir, timeoutMs))?.snapshot;
}
