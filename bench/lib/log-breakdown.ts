// Where a start or a stop spends its time, from the services' own pino logs (ms timestamps):
// client sends → gateway enqueued → worker starting → worker running → client answered, and
// client sends → gateway stop requested → worker control message → worker dump ended → answered.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { summary } from './stats.mjs';

async function readLogs(runDir) {
  const files = (await readdir(runDir)).filter(
    (f) => f.endsWith('.log') && f !== 'bench.log' && f !== 'origin.log',
  );
  const lines = [];
  for (const f of files) {
    for (const line of (await readFile(join(runDir, f), 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line));
      } catch {
        /* partial line */
      }
    }
  }
  return lines;
}

/** dumps: [{ id, requestedAt, startMs, stopRequestedAt, stopMs }] with unique ids. */
export async function breakdown(runDir, dumps) {
  const logs = await readLogs(runDir);
  const byId = new Map(dumps.map((d) => [d.id, { d }]));
  const runToId = new Map();
  const keyToId = new Map();
  for (const l of logs) {
    if (l.msg === 'dump enqueued' && byId.has(l.dumpId)) {
      const e = byId.get(l.dumpId);
      e.enqueued = l.time;
      runToId.set(l.runId, l.dumpId);
      keyToId.set(l.dumpKey, l.dumpId);
    }
  }
  for (const l of logs) {
    const id = runToId.get(l.runId) ?? keyToId.get(l.dumpKey);
    const e = id === undefined ? undefined : byId.get(id);
    if (!e) continue;
    if (l.name === 'hlsdump-worker') {
      if (l.msg === 'starting dump') e.workerStarting = l.time;
      else if (l.msg === 'dump running') e.workerRunning = l.time;
      else if (l.msg === 'control message' && l.type === 'stop') e.workerStop = l.time;
      else if (l.msg === 'dump ended') e.workerEnded = l.time;
    } else if (l.msg === 'stop requested') e.stopRequested = l.time;
  }
  const pick = (f) => summary([...byId.values()].map(f).filter((x) => Number.isFinite(x)));
  return {
    start: [
      [
        'client → gateway enqueued (auth, origin probe, checks, registry, queue.add)',
        pick((e) => e.enqueued - e.d.requestedAt),
      ],
      [
        'enqueued → worker starting (BullMQ hand-over, claim)',
        pick((e) => e.workerStarting - e.enqueued),
      ],
      [
        'worker starting → running (engine start: origin loads, files, infoFile, registry)',
        pick((e) => e.workerRunning - e.workerStarting),
      ],
      [
        'worker running → client answered (event to gateway, reply)',
        pick((e) => e.d.requestedAt + e.d.startMs - e.workerRunning),
      ],
    ],
    stop: [
      [
        'client → gateway stop requested (registry)',
        pick((e) => e.stopRequested - e.d.stopRequestedAt),
      ],
      [
        'stop requested → worker control message (pub/sub)',
        pick((e) => e.workerStop - e.stopRequested),
      ],
      [
        'control message → dump ended (finalize, registry)',
        pick((e) => e.workerEnded - e.workerStop),
      ],
      [
        'dump ended → client answered',
        pick((e) => e.d.stopRequestedAt + e.d.stopMs - e.workerEnded),
      ],
    ],
  };
}
