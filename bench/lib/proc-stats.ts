// CPU and memory of the bench's processes: /proc figures (the soak's reader), samples over time,
// and the live heap of a worker started with heap-probe.mjs preloaded.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { procSample } from '../../test/support/proc-stats.ts';

/** CPU seconds (user + system) the process has used, or undefined once it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  return procSample(pid)?.cpuS;
}

/** Resident set size in bytes, or undefined once the process is gone. */
export function rssBytes(pid: number | undefined): number | undefined {
  const sample = procSample(pid);
  return sample === undefined ? undefined : sample.rssKb * 1024;
}

/** Total CPU seconds of every pid in `pids` (missing ones count 0). */
export function totalCpu(pids: readonly (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

export interface SampleRow {
  at: number;
  groups: Record<string, { pid: number; cpu: number | undefined; rss: number | undefined }[]>;
}

export interface Sampler {
  samples: SampleRow[];
  stop(): SampleRow[];
}

/** Samples CPU and RSS of named process groups every `intervalMs` until stop(). */
export function startSampler(groups: () => Record<string, number[]>, intervalMs = 1000): Sampler {
  const samples: SampleRow[] = [];
  const take = () => {
    const row: SampleRow = { at: Date.now(), groups: {} };
    for (const [name, pids] of Object.entries(groups())) {
      row.groups[name] = pids.map((pid) => ({ pid, cpu: cpuSeconds(pid), rss: rssBytes(pid) }));
    }
    samples.push(row);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** CPU seconds of a sampled group between two moments (first and last sample in between). */
export function groupCpu(sampler: Sampler, group: string, from: number, to: number): number {
  const rows = sampler.samples.filter((s) => s.at >= from && s.at <= to);
  if (rows.length < 2) return 0;
  const sum = (row: SampleRow) => (row.groups[group] ?? []).reduce((s, p) => s + (p.cpu ?? 0), 0);
  return sum(rows[rows.length - 1]!) - sum(rows[0]!);
}

/** What heap-probe.mjs reports: process.memoryUsage() after a full GC, and how long the GC took. */
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

/**
 * Live memory after a full GC of a process started with heap-probe.mjs preloaded: sends SIGUSR2 and
 * waits for its report, or undefined.
 */
export async function probeHeap(
  pid: number | undefined,
  dir: string,
  timeoutMs = 5000,
): Promise<HeapReport | undefined> {
  if (pid === undefined) return undefined;
  const path = `${dir}/${pid}.json`;
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

/** A heap snapshot of a process started with heap-probe.mjs (after a full GC); its path. */
export async function heapSnapshot(
  pid: number | undefined,
  dir: string,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  if (pid === undefined) return undefined;
  await writeFile(`${dir}/${pid}.snapshot-request`, '');
  return (await probeHeap(pid, dir, timeoutMs))?.snapshot;
}
