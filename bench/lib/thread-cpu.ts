// CPU of one process split by thread kind (the JavaScript thread, libuv's pool, V8's helpers),
// user and system apart, from /proc/<pid>/task: tells work done on the event loop from file
// system calls run on the pool and from the garbage collector's helper threads.
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface ThreadCpu {
  userS: number;
  systemS: number;
}

/** utime and stime per thread kind, summed over the threads of that kind alive now. */
export function threadCpu(pid: number | undefined): Map<string, ThreadCpu> {
  const kinds = new Map<string, ThreadCpu>();
  if (pid === undefined) return kinds;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return kinds;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const kind = tid === String(pid) ? 'main' : threadKind(comm);
      const entry = kinds.get(kind) ?? { userS: 0, systemS: 0 };
      entry.userS += Number(fields[11]) / CLK_TCK;
      entry.systemS += Number(fields[12]) / CLK_TCK;
      kinds.set(kind, entry);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return kinds;
}

function threadKind(comm: string): string {
  if (comm.startsWith('libuv-worker')) return 'libuv pool';
  if (comm.includes('V8Worker') || comm.startsWith('DelayedTask')) return 'V8 helpers';
  return 'other';
}

/** What each kind spent between two samples, as "main 0.91 (user 0.60, sys 0.31), …". */
export function threadCpuDelta(
  before: Map<string, ThreadCpu>,
  after: Map<string, ThreadCpu>,
): string {
  const parts: string[] = [];
  for (const [kind, end] of after) {
    const start = before.get(kind) ?? { userS: 0, systemS: 0 };
    const user = end.userS - start.userS;
    const system = end.systemS - start.systemS;
    parts.push(
      `${kind} ${(user + system).toFixed(2)} (user ${user.toFixed(2)}, sys ${system.toFixed(2)})`,
    );
  }
  return parts.join(', ');
}
