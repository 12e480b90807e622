import type { RequestRecord } from '@hlsdump/test-origin';
import type { DumpStatusBody } from '../support/cluster.js';
import { probeHeap } from '../support/heap-probe.js';
import { procSample } from '../support/proc-stats.js';
import { sleep } from './soak-format.js';
import { MEDIA_S, P, TIMELINE_ROWS, USE_HEAP_PROBE } from './soak-params.js';
import { lagOf, soakedStatus, type SoakRun } from './soak-run.js';

export type TimelineCell = { n: number; dumps: number; rssKb?: number; heapKb?: number };
export type TimelineRow = { mediaS: number; realS: number; cells: Record<string, TimelineCell> };

/**
 * Every P.sampleS seconds until stopped: each process's memory and CPU from /proc, each dump's
 * status, owner and lag behind the origin's edge, and TIMELINE_ROWS rows of memory over the run.
 */
export class SoakSampler {
  requestsSeen = 0;
  /** No kill in progress from this time on: lag samples after it count as steady. */
  quietSinceMs = 0;
  /** The last status seen of each dump, by output stream name. */
  readonly latest = new Map<string, DumpStatusBody>();
  readonly timeline: TimelineRow[] = [];
  readonly gatewayMem = { rssMaxKb: 0, hwmKb: 0, cpuS: 0 };
  readonly selfMem = { rssMaxKb: 0 };
  private nextTimelineAt = MEDIA_S / TIMELINE_ROWS;
  private sampling = true;
  private readonly loop: Promise<void>;

  constructor(private readonly run: SoakRun) {
    this.loop = (async () => {
      while (this.sampling) {
        await this.sampleOnce().catch((error: unknown) =>
          run.note(`sample failed: ${String(error)}`),
        );
        await sleep(P.sampleS * 1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.sampling = false;
    await this.loop;
  }

  /** A row of the memory timeline: per worker, its incarnation, dumps held, RSS and live heap. */
  async timelineRow(): Promise<void> {
    const { cluster, incarnations } = this.run;
    const owned = new Map<string, number>();
    for (const s of this.latest.values())
      if (s.owner && s.status === 'Running') owned.set(s.owner, (owned.get(s.owner) ?? 0) + 1);
    const cells: Record<string, TimelineCell> = {};
    for (const worker of cluster.workers) {
      const inc = incarnations.running(worker);
      if (!inc) continue;
      const ps = procSample(inc.pid);
      const heapKb = await this.liveHeapKb(inc.pid);
      cells[worker.id] = {
        n: inc.n,
        dumps: owned.get(worker.id) ?? 0,
        ...(ps && { rssKb: ps.rssKb }),
        ...(heapKb !== undefined && { heapKb }),
      };
    }
    this.timeline.push({
      mediaS: this.run.mediaElapsed(),
      realS: (Date.now() - this.run.startedMs) / 1000,
      cells,
    });
  }

  private async sampleOnce(): Promise<void> {
    const { cluster, incarnations, soaked, mediaElapsed } = this.run;
    if (mediaElapsed() >= this.nextTimelineAt && mediaElapsed() < MEDIA_S) {
      this.nextTimelineAt += MEDIA_S / TIMELINE_ROWS;
      await this.timelineRow();
    }
    for (const worker of cluster.workers) {
      const inc = incarnations.running(worker);
      if (inc) incarnations.sample(inc);
    }
    const g = procSample(cluster.gateway.pid);
    if (g) {
      this.gatewayMem.rssMaxKb = Math.max(this.gatewayMem.rssMaxKb, g.rssKb);
      this.gatewayMem.hwmKb = Math.max(this.gatewayMem.hwmKb, g.hwmKb);
      this.gatewayMem.cpuS = g.cpuS;
    }
    this.selfMem.rssMaxKb = Math.max(
      this.selfMem.rssMaxKb,
      Math.round(process.memoryUsage.rss() / 1024),
    );
    const owned = new Map<string, number>();
    const steady = Date.now() >= this.quietSinceMs;
    for (const d of soaked) {
      const s = await soakedStatus(cluster, d);
      if (!s) continue;
      this.latest.set(d.dump.outputStreamName, s);
      if (s.owner) {
        d.owners.add(s.owner);
        owned.set(s.owner, (owned.get(s.owner) ?? 0) + 1);
      }
      const lag = lagOf(d, s);
      if (lag !== undefined && s.status === 'Running') {
        d.lags.push(lag);
        if (steady) d.steadyLags.push(lag);
      }
    }
    for (const [worker, count] of owned) {
      const inc = incarnations.of(worker);
      if (inc) inc.dumpsMax = Math.max(inc.dumpsMax, count);
    }
    // The origin keeps a log of every request: count it, then let it go (a day is millions).
    for (const d of soaked) {
      const requests = d.stream.requests as RequestRecord[];
      this.requestsSeen += requests.length;
      requests.length = 0;
    }
  }

  /** Live heap after a full GC, KiB (the heap probe), or undefined. */
  private async liveHeapKb(pid: number): Promise<number | undefined> {
    if (!USE_HEAP_PROBE) return undefined;
    const report = await probeHeap(pid, this.run.dirs.probe);
    return report === undefined ? undefined : Math.round(report.heapUsed / 1024);
  }
}
