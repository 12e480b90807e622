// Where a start or a stop spends its time, from the services' own pino logs (ms timestamps):
// client sends → gateway enqueued → worker starting → worker running → client answered, and
// client sends → gateway stop requested → worker control message → worker dump ended → answered.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchDump } from './dump-files.ts';
import { summary, type Summary } from './stats.ts';

type LogLine = Record<string, unknown> & { msg?: string; time?: number };

async function readLogs(runDir: string): Promise<LogLine[]> {
  const files = (await readdir(runDir)).filter(
    (f) => f.endsWith('.log') && f !== 'bench.log' && f !== 'origin.log',
  );
  const lines: LogLine[] = [];
  for (const f of files) {
    for (const line of (await readFile(join(runDir, f), 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // A line cut by the end of the file.
      }
    }
  }
  return lines;
}

interface Moments {
  d: BenchDump;
  enqueued?: number;
  /** The worker's fetch that took the job left (BullMQ's processedOn), and reached the processor. */
  fetchedAt?: number;
  jobTaken?: number;
  workerStarting?: number;
  workerRunning?: number;
  stopRequested?: number;
  workerStop?: number;
  workerEnded?: number;
}

export interface Breakdown {
  start: [step: string, Summary][];
  stop: [step: string, Summary][];
}

/** `dumps` with unique ids, their start and stop sent and answered. */
export async function breakdown(runDir: string, dumps: readonly BenchDump[]): Promise<Breakdown> {
  const logs = await readLogs(runDir);
  const byId = new Map<string, Moments>(dumps.map((d) => [d.id, { d }]));
  const runToId = new Map<unknown, string>();
  const keyToId = new Map<unknown, string>();
  const jobToId = new Map<unknown, string>();
  for (const l of logs) {
    const e = typeof l.dumpId === 'string' ? byId.get(l.dumpId) : undefined;
    if (l.msg === 'dump enqueued' && e) {
      e.enqueued = l.time;
      runToId.set(l.runId, e.d.id);
      keyToId.set(l.dumpKey, e.d.id);
      jobToId.set(l.jobId, e.d.id);
    }
  }
  for (const l of logs) {
    const id = runToId.get(l.runId) ?? keyToId.get(l.dumpKey) ?? jobToId.get(l.jobId);
    const e = id === undefined ? undefined : byId.get(id);
    if (!e) continue;
    if (l.name === 'hlsdump-worker') {
      if (l.msg === 'job taken' && e.jobTaken === undefined) {
        // The first take: a job refused over the fair share is taken again elsewhere.
        e.jobTaken = l.time;
        if (typeof l.fetchedAt === 'number') e.fetchedAt = l.fetchedAt;
      } else if (l.msg === 'starting dump') e.workerStarting = l.time;
      else if (l.msg === 'dump running') e.workerRunning = l.time;
      else if (l.msg === 'control message' && l.type === 'stop') e.workerStop = l.time;
      else if (l.msg === 'dump ended') e.workerEnded = l.time;
    } else if (l.msg === 'stop requested') e.stopRequested = l.time;
  }
  const pick = (f: (e: Moments) => number) =>
    summary([...byId.values()].map(f).filter((x) => Number.isFinite(x)));
  const n = (x: number | undefined) => x ?? NaN;
  return {
    start: [
      [
        'client → gateway enqueued (auth, origin probe, checks, registry, queue.add)',
        pick((e) => n(e.enqueued) - n(e.d.requestedAt)),
      ],
      [
        'enqueued → worker starting (BullMQ hand-over, claim)',
        pick((e) => n(e.workerStarting) - n(e.enqueued)),
      ],
      [
        "… of which enqueued → the worker's fetch of the job leaves (BullMQ processedOn)",
        pick((e) => n(e.fetchedAt) - n(e.enqueued)),
      ],
      [
        '… of which the fetch leaves → the processor has the job',
        pick((e) => n(e.jobTaken) - n(e.fetchedAt)),
      ],
      [
        '… of which the processor has the job → starting (fair share, claim)',
        pick((e) => n(e.workerStarting) - n(e.jobTaken)),
      ],
      [
        'worker starting → running (engine start: origin loads, files, infoFile, registry)',
        pick((e) => n(e.workerRunning) - n(e.workerStarting)),
      ],
      [
        'worker running → client answered (event to gateway, reply)',
        pick((e) => n(e.d.requestedAt) + n(e.d.startMs) - n(e.workerRunning)),
      ],
    ],
    stop: [
      [
        'client → gateway stop requested (registry)',
        pick((e) => n(e.stopRequested) - n(e.d.stopRequestedAt)),
      ],
      [
        'stop requested → worker control message (pub/sub)',
        pick((e) => n(e.workerStop) - n(e.stopRequested)),
      ],
      [
        'control message → dump ended (finalize, registry)',
        pick((e) => n(e.workerEnded) - n(e.workerStop)),
      ],
      [
        'dump ended → client answered',
        pick((e) => n(e.d.stopRequestedAt) + n(e.d.stopMs) - n(e.workerEnded)),
      ],
    ],
  };
}
