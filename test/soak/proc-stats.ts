import { readFileSync } from 'node:fs';

/** Linux clock ticks per second (`getconf CLK_TCK`): 100 on every Linux this runs on. */
const CLK_TCK = 100;

export interface ProcSample {
  /** Resident set size now (VmRSS), KiB. */
  rssKb: number;
  /** Peak resident set size of the process so far (VmHWM), KiB. */
  hwmKb: number;
  /** utime + stime, seconds. */
  cpuS: number;
}

/** Memory and CPU of one process from /proc; undefined once it is gone. */
export function procSample(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // /proc/<pid>/stat: the command may contain spaces; fields after ") " are positional.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command.
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    // A zombie (killed, not yet reaped) has no VmRSS line.
    const rssKb = kb('VmRSS');
    if (!Number.isFinite(rssKb)) return undefined;
    return { rssKb, hwmKb: kb('VmHWM'), cpuS };
  } catch {
    return undefined;
  }
}

/** The machine a run was made on, for the results file. */
export function machineLines(): { cpu: string; cores: number; memoryGiB: number; os: string } {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const osRelease = safeRead('/etc/os-release');
  const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(safeRead('/proc/meminfo'))?.[1] ?? 0);
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memoryGiB: Math.round((memTotalKb / 1024 / 1024) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? 'unknown',
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** A small seeded PRNG (mulberry32), so a run's kill schedule can be replayed with SOAK_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
