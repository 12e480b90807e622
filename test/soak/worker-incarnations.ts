import type { ClusterWorker } from '../support/cluster.js';
import { procSample, type ProcSample } from '../support/proc-stats.js';

/** One life of a worker process, between its start and its SIGKILL (or the end of the run). */
export interface Incarnation {
  worker: string;
  n: number;
  pid: number;
  startedMs: number;
  endedMs?: number;
  killed: boolean;
  samples: number;
  rssFirstKb?: number;
  rssLastKb?: number;
  rssMaxKb: number;
  hwmKb: number;
  cpuS: number;
  dumpsMax: number;
}

/** Every incarnation of every worker, in order, and the one each worker is in now. */
export class WorkerIncarnations {
  readonly all: Incarnation[] = [];
  private readonly current = new Map<string, Incarnation>();

  /** The worker process was (re)started: a new incarnation begins. */
  open(worker: ClusterWorker): void {
    const previous = this.current.get(worker.id);
    const inc: Incarnation = {
      worker: worker.id,
      n: (previous?.n ?? 0) + 1,
      pid: worker.pid!,
      startedMs: Date.now(),
      killed: false,
      samples: 0,
      rssMaxKb: 0,
      hwmKb: 0,
      cpuS: 0,
      dumpsMax: 0,
    };
    this.all.push(inc);
    this.current.set(worker.id, inc);
  }

  of(workerId: string): Incarnation | undefined {
    return this.current.get(workerId);
  }

  /** The incarnation the worker is in, while that process still runs. */
  running(worker: ClusterWorker): Incarnation | undefined {
    const inc = this.current.get(worker.id);
    return inc && worker.running && worker.pid === inc.pid ? inc : undefined;
  }

  /** Reads the incarnation's memory and CPU from /proc (nothing once the process is gone). */
  sample(inc: Incarnation): void {
    record(inc, procSample(inc.pid));
  }
}

function record(inc: Incarnation, s: ProcSample | undefined): void {
  if (!s) return;
  inc.samples++;
  inc.rssFirstKb ??= s.rssKb;
  inc.rssLastKb = s.rssKb;
  inc.rssMaxKb = Math.max(inc.rssMaxKb, s.rssKb);
  inc.hwmKb = Math.max(inc.hwmKb, s.hwmKb);
  inc.cpuS = s.cpuS;
}
