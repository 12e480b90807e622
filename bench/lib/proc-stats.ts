// CPU and memory of a process, read from /proc (Linux): utime+stime and VmRSS.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64/arm64

/** CPU seconds (user + system) the process has used, or undefined once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes, or undefined once the process is gone. */
export function rssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples CPU and RSS of named process groups every `intervalMs` until stop(). */
export function startSampler(groups, intervalMs = 1000) {
  const samples = [];
  const take = () => {
    const at = Date.now();
    const row = { at, groups: {} };
    for (const [name, pids] of Object.entries(groups())) {
      row.groups[name] = pids.map((pid) => ({ pid, cpu: cpuSeconds(pid), rss: rssBytes(pid) }));
    }
    samples.push(row);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    take,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Total CPU seconds of every pid in `pids` (missing ones count 0). */
export function totalCpu(pids) {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/**
 * Live memory after a full GC of a process started with heap-probe.mjs preloaded: sends SIGUSR2 and
 * waits for its report. { rss, heapUsed, external, arrayBuffers, gcMs } or undefined.
 */
export async function probeHeap(pid, dir, timeoutMs = 5000) {
  const { readFile, rm } = await import('node:fs/promises');
  const path = `${dir}/${pid}.json`;
  await rm(path, { force: true });
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch {
      /* not yet */
    }
  }
  return undefined;
}

/** A heap snapshot of a process started with heap-probe.mjs (after a full GC); its path. */
export async function heapSnapshot(pid, dir, timeoutMs = 60_000) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/${pid}.snapshot-request`, '');
  const usage = await probeHeap(pid, dir, timeoutMs);
  return usage?.snapshot;
}
