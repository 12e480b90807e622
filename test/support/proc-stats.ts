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
