/**
 * The soak: a cluster of worker processes records live streams for a simulated day (the test
 * origin's clock runs ×SOAK_SPEED) while a worker that owns dumps is SIGKILLed at random every
 * few real minutes and restarted once its dumps run elsewhere. At the end every dump is stopped
 * through the API and checked against the origin: segments expected vs written, duplicates,
 * gaps (the status's count against the chunklists' missing MSNs), bytes, infoFile. Memory of
 * every worker incarnation is sampled from /proc throughout. The figures are appended to
 * bench/results/soak.md and printed.
 *
 * Not part of CI: `npm run soak` (parameters and defaults in bench/README.md, "Soak").
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  createTestOrigin,
  type RenditionId,
  type RequestRecord,
  type StreamControl,
  type TestOrigin,
} from '@hlsdump/test-origin';
import { afterAll, expect, it } from 'vitest';
import {
  originsFor,
  startCluster,
  type Cluster,
  type ClusterWorker,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { baseName, readChunklist } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import { machineLines } from '../support/machine.js';
import { percentile } from '../support/percentile.js';
import { procSample, type ProcSample } from '../support/proc-stats.js';
import { seededRandom } from '../support/seeded-random.js';

// ---------------------------------------------------------------- parameters

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
};

const SEGMENT_S = 4; // the test origin: 1-second parts, 4 parts per segment
const P = {
  mediaHours: num('SOAK_MEDIA_HOURS', 24),
  speed: num('SOAK_SPEED', 30),
  dumps: Math.round(num('SOAK_DUMPS', 3)),
  workers: Math.round(num('SOAK_WORKERS', 3)),
  killEveryS: num('SOAK_KILL_EVERY_S', 180),
  /** Failover time the origin window must cover twice over (the harness's: ~5 s). */
  failoverBudgetS: num('SOAK_FAILOVER_BUDGET_S', 10),
  sampleS: num('SOAK_SAMPLE_S', 3),
  /** Check the bytes of every Nth segment (1 = all); segments around each kill always. */
  bytesEvery: Math.round(num('SOAK_BYTES_EVERY', 1)),
  seed: Math.round(num('SOAK_SEED', Math.floor(Math.random() * 2 ** 31) + 1)),
  windowSegments: 0,
  /**
   * When the killed worker comes back: 'after-takeover' (default: once its dumps run elsewhere)
   * or 'immediate' (at once, under the same WORKER_ID, before the lock expires: a container
   * restarted in place, whose id is the same hostname and pid).
   */
  restart: (process.env.SOAK_RESTART ?? 'after-takeover') as 'after-takeover' | 'immediate',
  label: process.env.SOAK_LABEL ?? '',
  keep: process.env.SOAK_KEEP === '1',
  results: process.env.SOAK_RESULTS ?? join(REPO_ROOT, 'bench/results/soak.md'),
};
P.windowSegments = Math.round(
  num('SOAK_WINDOW_SEGMENTS', Math.ceil(((P.failoverBudgetS * P.speed) / SEGMENT_S) * 2)),
);
if (P.restart !== 'after-takeover' && P.restart !== 'immediate')
  throw new Error(`SOAK_RESTART must be after-takeover or immediate, got ${String(P.restart)}`);
const MEDIA_S = P.mediaHours * 3600;
const PLANNED_REAL_S = MEDIA_S / P.speed;
/** The kill loop ends here whatever happens; verification has its own budget after it. */
const LOOP_DEADLINE_S = PLANNED_REAL_S * 1.5 + 300;
const TEST_TIMEOUT_MS = (LOOP_DEADLINE_S + 1800 + (MEDIA_S / 3600) * P.dumps * 20) * 1000;
/**
 * bench/lib/heap-probe.mjs, preloaded into the workers when present (SOAK_HEAP_PROBE=0: not):
 * on SIGUSR2 a full GC, then process.memoryUsage() to a file, so the timeline shows live heap
 * beside RSS. The workers' code is untouched.
 */
const HEAP_PROBE = join(REPO_ROOT, 'bench/lib/heap-probe.mjs');
const USE_HEAP_PROBE = process.env.SOAK_HEAP_PROBE !== '0' && existsSync(HEAP_PROBE);
/** Rows of the memory timeline, spread evenly over the simulated time. */
const TIMELINE_ROWS = 12;
/** The storage's temporary file for an atomic write: `.<name>.<12 hex>.tmp`. */
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;
const WORKER_ENV = {
  // The harness's own values, spelled out: failover in about LOCK + STALLED.
  HEARTBEAT_MS: '300',
  LOCK_DURATION_MS: '4000',
  STALLED_INTERVAL_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '8000',
};

// ---------------------------------------------------------------- records

interface Incarnation {
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

interface Kill {
  n: number;
  atMs: number;
  atMediaS: number;
  worker: string;
  incarnation: number;
  dumps: string[];
  /** Per moved dump: ms from the SIGKILL to another owner reporting Running. */
  failoverMs: Record<string, number | undefined>;
  newOwner: Record<string, string | undefined>;
  /** Per moved dump: ms from the SIGKILL until the dump is back within 2 segments of the edge. */
  catchUpMs: Record<string, number | undefined>;
  /** The highest MSN the dump had reported when it was killed, and the origin's edge at takeover. */
  msnAtKill: Record<string, number>;
  edgeAtTakeover: Record<string, number>;
  restartMs?: number;
}

interface Soaked {
  index: number;
  stream: StreamControl;
  dump: StartedDump;
  startedMediaS: number;
  lags: number[];
  steadyLags: number[];
  owners: Set<string>;
  final?: DumpStatusBody;
  stopStatus?: number;
  stopMs?: number;
  edgeAtStop: Record<string, number>;
}

interface RenditionCheck {
  dump: string;
  rendition: string;
  first?: number;
  last?: number;
  expected: number;
  written: number;
  duplicates: number;
  outOfOrder: number;
  missing: number;
  missingMsns: number[];
  statusGaps?: number;
  statusSegments?: number;
  discontinuities: number;
  endlist: boolean;
  bytesChecked: number;
  bytesBad: number;
  timingBad: number;
  behindEdgeAtStop?: number;
}

interface InfoCheck {
  dump: string;
  status: string;
  items: number;
  seqContinuous: boolean;
  missingFiles: number;
  unlisted: string[];
  segmentItemsTwice: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kb: number | undefined): string =>
  kb === undefined || !Number.isFinite(kb) ? '–' : (kb / 1024).toFixed(0);
const secs = (ms: number | undefined, digits = 1): string =>
  ms === undefined ? '–' : (ms / 1000).toFixed(digits);
const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const hms = (s: number): string =>
  `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;

let origin: TestOrigin | undefined;
let cluster: Cluster | undefined;

afterAll(async () => {
  await cluster?.close();
  await origin?.close();
});

it(
  `soak: ${P.workers} workers, ${P.dumps} dumps, ${P.mediaHours} media h at ×${P.speed}, a kill every ~${P.killEveryS} s`,
  async () => {
    const random = seededRandom(P.seed);
    const runDir = await mkdtemp(join(tmpdir(), 'hlsdump-soak-'));
    const outDir = join(runDir, 'out');
    const logDir = join(runDir, 'logs');
    await mkdir(outDir);
    await mkdir(logDir);
    const probeDir = join(runDir, 'probe');
    await mkdir(probeDir);
    const problems: string[] = [];
    const note = (line: string): void =>
      console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
    note(
      `params ${JSON.stringify({ ...P, plannedRealS: Math.round(PLANNED_REAL_S), deadlineS: Math.round(LOOP_DEADLINE_S) })} dir ${runDir}`,
    );

    const o = await createTestOrigin({ speed: P.speed });
    origin = o;
    const c = await startCluster({
      workers: P.workers,
      origins: originsFor(o.url),
      gatewayEnv: { OUTPUT_ROOTS: outDir, STOP_TIMEOUT_MS: '15000' },
      workerEnv: {
        ...WORKER_ENV,
        ...(USE_HEAP_PROBE && {
          NODE_OPTIONS: `--expose-gc --import=${HEAP_PROBE}`,
          HLSDUMP_BENCH_PROBE_DIR: probeDir,
        }),
      },
    });
    cluster = c;

    // -------------------------------------------------------------- processes and memory
    const incarnations: Incarnation[] = [];
    const current = new Map<string, Incarnation>();
    const gatewayMem = { rssMaxKb: 0, hwmKb: 0, cpuS: 0 };
    const selfMem = { rssMaxKb: 0 };
    const cpuAtStart = process.cpuUsage();
    const openIncarnation = (worker: ClusterWorker): void => {
      const previous = current.get(worker.id);
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
      incarnations.push(inc);
      current.set(worker.id, inc);
    };
    const sampleProcess = (inc: Incarnation, s: ProcSample | undefined): void => {
      if (!s) return;
      inc.samples++;
      inc.rssFirstKb ??= s.rssKb;
      inc.rssLastKb = s.rssKb;
      inc.rssMaxKb = Math.max(inc.rssMaxKb, s.rssKb);
      inc.hwmKb = Math.max(inc.hwmKb, s.hwmKb);
      inc.cpuS = s.cpuS;
    };
    for (const worker of c.workers) openIncarnation(worker);

    // -------------------------------------------------------------- streams and dumps
    const soaked: Soaked[] = [];
    const renditionIds = (s: StreamControl): RenditionId[] => s.renditions.map((r) => r.id);
    const edge = (s: StreamControl, r: RenditionId): number => s.status(r).completeSegments - 1;
    for (let i = 0; i < P.dumps; i++) {
      const name = `soak${i}`;
      const stream = o.addStream('app', name, { windowSegments: P.windowSegments });
      const outputPath = join(outDir, `${name}-d`);
      const dump = await c.startDump({
        stream: name,
        id: 'd',
        outputPath,
        infoFile: `${outputPath}.xml`,
      });
      if (dump.status !== 200)
        throw new Error(`start ${name}: ${dump.status} ${JSON.stringify(dump.body)}`);
      soaked.push({
        index: i,
        stream,
        dump,
        startedMediaS: o.clock.now(),
        lags: [],
        steadyLags: [],
        owners: new Set(),
        edgeAtStop: {},
      });
      // Independent live streams: spread their segment boundaries over one segment.
      await sleep((SEGMENT_S * 1000) / P.speed / P.dumps);
    }
    const startedMs = Date.now();
    const startedMediaS = o.clock.now();
    const mediaElapsed = (): number => o.clock.now() - startedMediaS;
    const statusOf = async (d: Soaked): Promise<DumpStatusBody | undefined> => {
      try {
        return (await c.status(d.dump.vhost, d.dump.app, d.dump.stream, d.dump.id)).dump;
      } catch {
        return undefined;
      }
    };
    const lagOf = (d: Soaked, s: DumpStatusBody): number | undefined => {
      const lags = renditionIds(d.stream).map((r) => {
        const rs = s.renditions.find((x) => x.chunklist === baseName(d.stream.chunklistUrl(r)));
        return rs?.lastSequence === undefined ? undefined : edge(d.stream, r) - rs.lastSequence;
      });
      return lags.some((l) => l === undefined) ? undefined : Math.max(...(lags as number[]));
    };
    note(
      `${P.dumps} dumps started on ${P.workers} workers; origin window ${P.windowSegments} segments`,
    );

    // -------------------------------------------------------------- the sampler
    let requestsSeen = 0;
    let sampling = true;
    let quietSinceMs = 0; // no kill in progress before this (steady lag samples only after it)
    const latest = new Map<string, DumpStatusBody>();
    /** Live heap after a full GC, MiB (heap-probe.mjs), or undefined. */
    const liveHeapKb = async (pid: number): Promise<number | undefined> => {
      if (!USE_HEAP_PROBE) return undefined;
      const file = join(probeDir, `${pid}.json`);
      await rm(file, { force: true });
      try {
        process.kill(pid, 'SIGUSR2');
      } catch {
        return undefined;
      }
      for (const until = Date.now() + 5000; Date.now() < until;) {
        await sleep(50);
        try {
          const usage = JSON.parse(await readFile(file, 'utf8')) as { heapUsed: number };
          return Math.round(usage.heapUsed / 1024);
        } catch {
          // not written yet
        }
      }
      return undefined;
    };
    type TimelineCell = { n: number; dumps: number; rssKb?: number; heapKb?: number };
    const timeline: { mediaS: number; realS: number; cells: Record<string, TimelineCell> }[] = [];
    let nextTimelineAt = MEDIA_S / TIMELINE_ROWS;
    const timelineRow = async (): Promise<void> => {
      const owned = new Map<string, number>();
      for (const s of latest.values())
        if (s.owner && s.status === 'Running') owned.set(s.owner, (owned.get(s.owner) ?? 0) + 1);
      const cells: Record<string, TimelineCell> = {};
      for (const worker of c.workers) {
        const inc = current.get(worker.id);
        if (!inc || !worker.running || worker.pid !== inc.pid) continue;
        const ps = procSample(inc.pid);
        const heapKb = await liveHeapKb(inc.pid);
        cells[worker.id] = {
          n: inc.n,
          dumps: owned.get(worker.id) ?? 0,
          ...(ps && { rssKb: ps.rssKb }),
          ...(heapKb !== undefined && { heapKb }),
        };
      }
      timeline.push({ mediaS: mediaElapsed(), realS: (Date.now() - startedMs) / 1000, cells });
    };
    const sampleOnce = async (): Promise<void> => {
      if (mediaElapsed() >= nextTimelineAt && mediaElapsed() < MEDIA_S) {
        nextTimelineAt += MEDIA_S / TIMELINE_ROWS;
        await timelineRow();
      }
      for (const worker of c.workers) {
        const inc = current.get(worker.id);
        if (inc && worker.running && worker.pid === inc.pid)
          sampleProcess(inc, procSample(inc.pid));
      }
      const g = procSample(c.gateway.pid);
      if (g) {
        gatewayMem.rssMaxKb = Math.max(gatewayMem.rssMaxKb, g.rssKb);
        gatewayMem.hwmKb = Math.max(gatewayMem.hwmKb, g.hwmKb);
        gatewayMem.cpuS = g.cpuS;
      }
      selfMem.rssMaxKb = Math.max(selfMem.rssMaxKb, Math.round(process.memoryUsage.rss() / 1024));
      const owned = new Map<string, number>();
      const steady = Date.now() >= quietSinceMs;
      for (const d of soaked) {
        const s = await statusOf(d);
        if (!s) continue;
        latest.set(d.dump.outputStreamName, s);
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
        const inc = current.get(worker);
        if (inc) inc.dumpsMax = Math.max(inc.dumpsMax, count);
      }
      // The origin keeps a log of every request: count it, then let it go (a day is millions).
      for (const d of soaked) {
        const requests = d.stream.requests as RequestRecord[];
        requestsSeen += requests.length;
        requests.length = 0;
      }
    };
    const sampler = (async () => {
      while (sampling) {
        await sampleOnce().catch((error: unknown) => note(`sample failed: ${String(error)}`));
        await sleep(P.sampleS * 1000);
      }
    })();

    // -------------------------------------------------------------- the kill loop
    const kills: Kill[] = [];
    const deadlineMs = startedMs + LOOP_DEADLINE_S * 1000;
    let deadlineHit = false;
    const nextKillDelayMs = (): number => P.killEveryS * 1000 * (0.5 + random());
    let nextKillAt = Date.now() + nextKillDelayMs();
    let lastProgress = 0;
    const realLeftS = (): number => (MEDIA_S - mediaElapsed()) / P.speed;

    while (mediaElapsed() < MEDIA_S) {
      if (Date.now() > deadlineMs) {
        deadlineHit = true;
        problems.push(
          `hard deadline hit after ${hms((Date.now() - startedMs) / 1000)} real, ${hms(mediaElapsed())} media`,
        );
        break;
      }
      if (Date.now() - lastProgress > 60_000) {
        lastProgress = Date.now();
        const lags = soaked.map((d) => {
          const s = latest.get(d.dump.outputStreamName);
          return `${d.dump.stream}@${s?.owner ?? '?'}:${s?.status ?? '?'} lag ${fmt(d.lags.at(-1))} gaps ${s?.gaps ?? '?'}`;
        });
        note(
          `media ${hms(mediaElapsed())} / ${hms(MEDIA_S)}, real ${hms((Date.now() - startedMs) / 1000)}, kills ${kills.length}; ${lags.join('; ')}`,
        );
      }
      // No kill so close to the end that its failover would overlap the stop.
      if (Date.now() < nextKillAt || realLeftS() < 45) {
        await sleep(Math.min(1000, Math.max(50, nextKillAt - Date.now())));
        continue;
      }
      const statuses = await Promise.all(soaked.map(async (d) => ({ d, s: await statusOf(d) })));
      const byOwner = new Map<string, Soaked[]>();
      for (const { d, s } of statuses)
        if (s?.owner && s.status === 'Running')
          byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), d]);
      const candidates = c.workers.filter((w) => w.running && byOwner.has(w.id));
      if (candidates.length === 0) {
        note('no worker owns a running dump right now; next kill in 5 s');
        nextKillAt = Date.now() + 5000;
        continue;
      }
      const victim = candidates[Math.floor(random() * candidates.length)]!;
      const moved = byOwner.get(victim.id)!;
      const kill: Kill = {
        n: kills.length + 1,
        atMs: 0,
        atMediaS: mediaElapsed(),
        worker: victim.id,
        incarnation: current.get(victim.id)!.n,
        dumps: moved.map((d) => d.dump.stream),
        failoverMs: {},
        newOwner: {},
        catchUpMs: {},
        msnAtKill: {},
        edgeAtTakeover: {},
      };
      for (const { d, s } of statuses)
        if (moved.includes(d) && s)
          kill.msnAtKill[d.dump.stream] = Math.max(
            ...s.renditions.map((r) => r.lastSequence ?? -1),
          );
      kills.push(kill);
      quietSinceMs = Number.POSITIVE_INFINITY;
      const inc = current.get(victim.id)!;
      sampleProcess(inc, procSample(inc.pid));
      kill.atMs = Date.now();
      await victim.kill('SIGKILL');
      inc.endedMs = Date.now();
      inc.killed = true;
      note(
        `kill #${kill.n}: SIGKILL ${victim.id}#${inc.n} (pid ${inc.pid}) owning ${kill.dumps.join(', ')}`,
      );

      // Failover: a new run of the dump reports Running (another owner, or with
      // SOAK_RESTART=immediate possibly the victim's id again); then back at the live edge.
      const pending = new Set(moved);
      const catching = new Set<Soaked>();
      const watchUntil = kill.atMs + 90_000;
      const restart = async (): Promise<void> => {
        const t = Date.now();
        await victim.restart();
        await c.workerReady(victim);
        openIncarnation(victim);
        kill.restartMs = Date.now() - t;
      };
      let restarted: Promise<void> | undefined = P.restart === 'immediate' ? restart() : undefined;
      const rerun = (s: DumpStatusBody): boolean => {
        const runningAt = Date.parse((s as { runningAt?: string }).runningAt ?? '');
        return (
          s.status === 'Running' &&
          runningAt >= kill.atMs &&
          (P.restart === 'immediate' || (s.owner !== undefined && s.owner !== victim.id))
        );
      };
      while ((pending.size > 0 || catching.size > 0) && Date.now() < watchUntil) {
        for (const d of [...pending, ...catching]) {
          const s = await statusOf(d);
          if (!s) continue;
          if (pending.has(d) && rerun(s)) {
            kill.failoverMs[d.dump.stream] = Date.now() - kill.atMs;
            kill.newOwner[d.dump.stream] = s.owner;
            kill.edgeAtTakeover[d.dump.stream] = Math.max(
              ...renditionIds(d.stream).map((r) => edge(d.stream, r)),
            );
            pending.delete(d);
            catching.add(d);
          }
          if (catching.has(d)) {
            const lag = lagOf(d, s);
            if (lag !== undefined && lag <= 2) {
              kill.catchUpMs[d.dump.stream] = Date.now() - kill.atMs;
              catching.delete(d);
            }
          }
        }
        // The killed worker comes back as soon as its dumps run elsewhere (so N stay available).
        if (pending.size === 0 && !restarted) restarted = restart();
        await sleep(200);
      }
      for (const d of pending)
        problems.push(
          `kill #${kill.n}: ${d.dump.stream} not running again 90 s after its owner ${victim.id} was killed`,
        );
      for (const d of catching)
        problems.push(
          `kill #${kill.n}: ${d.dump.stream} not back at the live edge 90 s after the kill`,
        );
      restarted ??= restart();
      await restarted.catch((error: unknown) => {
        problems.push(`kill #${kill.n}: ${victim.id} did not come back: ${String(error)}`);
      });
      note(
        `kill #${kill.n}: failover ${kill.dumps.map((s) => `${s}→${kill.newOwner[s] ?? '?'} ${secs(kill.failoverMs[s])} s (live edge ${secs(kill.catchUpMs[s])} s)`).join(', ')}; ${victim.id} back after ${secs(kill.restartMs)} s`,
      );
      quietSinceMs = Date.now() + 5000;
      nextKillAt = Date.now() + nextKillDelayMs();
    }
    const loopEndMs = Date.now();
    const mediaAtStopS = mediaElapsed();
    await timelineRow();
    note(
      `simulated ${hms(mediaAtStopS)} in ${hms((loopEndMs - startedMs) / 1000)}; stopping ${P.dumps} dumps`,
    );

    // -------------------------------------------------------------- stop through the API
    for (const d of soaked) {
      for (const r of renditionIds(d.stream)) d.edgeAtStop[r] = edge(d.stream, r);
      const t = Date.now();
      const stop = await c.stopDump({ stream: d.dump.stream, id: d.dump.id });
      d.stopStatus = stop.status;
      d.stopMs = Date.now() - t;
      if (stop.status !== 200)
        problems.push(
          `${d.dump.stream}: stop answered ${stop.status} ${JSON.stringify(stop.body)}`,
        );
    }
    for (const d of soaked) {
      const until = Date.now() + 30_000;
      for (;;) {
        const s = await statusOf(d);
        if (s && s.status !== 'Running' && s.status !== 'Stopping') {
          d.final = s;
          break;
        }
        if (Date.now() > until) {
          d.final = s;
          break;
        }
        await sleep(250);
      }
      if (d.final?.status !== 'Completed')
        problems.push(
          `${d.dump.stream}: status ${d.final?.status ?? '(none)'} after the stop, not Completed`,
        );
    }
    sampling = false;
    await sampler;
    for (const worker of c.workers) {
      const inc = current.get(worker.id);
      if (inc) sampleProcess(inc, procSample(inc.pid));
    }
    const realS = (Date.now() - startedMs) / 1000;
    const testCpu = process.cpuUsage(cpuAtStart);

    // Every process's output, for whoever reads a problem.
    for (const p of [c.gateway, ...c.workers])
      await writeFile(join(logDir, `${p.name}.log`), p.output());
    const warnings = new Map<string, number>();
    for (const p of [c.gateway, ...c.workers])
      for (const line of p.logs())
        if ((line.level ?? 0) >= 40) {
          const key = `${p.name === 'gateway' ? 'gateway' : 'worker'} ${line.level! >= 50 ? 'error' : 'warn'}: ${line.msg ?? '?'}`;
          warnings.set(key, (warnings.get(key) ?? 0) + 1);
        }

    // -------------------------------------------------------------- verification
    note('verifying the dumps against the origin');
    const renditionChecks: RenditionCheck[] = [];
    const infoChecks: InfoCheck[] = [];
    for (const d of soaked) {
      const name = d.dump.stream;
      const killRanges = kills.flatMap((k) =>
        k.msnAtKill[name] === undefined
          ? []
          : [[k.msnAtKill[name]! - 5, (k.edgeAtTakeover[name] ?? k.msnAtKill[name]!) + 5] as const],
      );
      const segmentFiles = new Set<string>();
      for (const r of renditionIds(d.stream)) {
        const chunklist = baseName(d.stream.chunklistUrl(r));
        const check: RenditionCheck = {
          dump: name,
          rendition: r,
          expected: 0,
          written: 0,
          duplicates: 0,
          outOfOrder: 0,
          missing: 0,
          missingMsns: [],
          discontinuities: 0,
          endlist: false,
          bytesChecked: 0,
          bytesBad: 0,
          timingBad: 0,
        };
        renditionChecks.push(check);
        const statusRendition = d.final?.renditions.find((x) => x.chunklist === chunklist);
        check.statusGaps = statusRendition?.gaps;
        check.statusSegments = statusRendition?.segments;
        let text: string;
        let details: Awaited<ReturnType<typeof readChunklist>>['details'];
        try {
          ({ text, details } = await readChunklist(join(d.dump.outputPath, chunklist)));
        } catch (error) {
          problems.push(`${name} ${r}: chunklist unreadable: ${String(error)}`);
          continue;
        }
        check.endlist = text.trimEnd().endsWith('#EXT-X-ENDLIST');
        check.discontinuities = details.segments.filter((s) => s.discontinuity).length;
        const msns: number[] = [];
        for (const segment of details.segments) {
          const file = baseName(segment.uri);
          segmentFiles.add(join(d.dump.outputPath, file));
          const msn = Number(/^seg_\d+_(\d+)_/.exec(file)?.[1] ?? NaN);
          if (!Number.isInteger(msn) || file !== baseName(d.stream.segmentUrl(r, msn))) {
            problems.push(`${name} ${r}: ${file} is no segment of the origin stream`);
            continue;
          }
          if (msns.length > 0 && msn <= msns.at(-1)!) check.outOfOrder++;
          msns.push(msn);
          if (
            Math.abs(segment.duration - d.stream.segmentDuration(r, msn)) > 1e-3 ||
            Date.parse(segment.programDateTime ?? '') !== d.stream.programDateTime(r, msn).getTime()
          )
            check.timingBad++;
          const nearKill = killRanges.some(([a, b]) => msn >= a && msn <= b);
          if (nearKill || (msn - (msns[0] ?? 0)) % P.bytesEvery === 0) {
            check.bytesChecked++;
            try {
              const bytes = await readFile(join(d.dump.outputPath, file));
              if (!bytes.equals(d.stream.segmentBytes(r, msn))) check.bytesBad++;
            } catch {
              check.bytesBad++;
            }
          }
        }
        check.written = msns.length;
        if (msns.length > 0) {
          check.first = Math.min(...msns);
          check.last = Math.max(...msns);
          check.expected = check.last - check.first + 1;
          const seen = new Set(msns);
          check.duplicates = msns.length - seen.size;
          for (let m = check.first; m <= check.last; m++)
            if (!seen.has(m)) check.missingMsns.push(m);
          check.missing = check.missingMsns.length;
          check.behindEdgeAtStop = d.edgeAtStop[r]! - check.last;
        }
        const initName = baseName(d.stream.initUrl(r));
        const init = await readFile(join(d.dump.outputPath, initName)).catch(() => undefined);
        if (!init?.equals(d.stream.initBytes(r)))
          problems.push(`${name} ${r}: init segment differs from the origin's`);

        const where = `${name} ${r}`;
        if (check.duplicates > 0)
          problems.push(`${where}: ${check.duplicates} duplicate segments in the chunklist`);
        if (check.outOfOrder > 0)
          problems.push(`${where}: ${check.outOfOrder} segments out of order`);
        if (check.missing !== (check.statusGaps ?? 0))
          problems.push(
            `${where}: ${check.missing} MSNs missing in the chunklist but the status counts ${check.statusGaps} gaps (missing: ${check.missingMsns.slice(0, 20).join(',')})`,
          );
        if (check.missing > 0)
          problems.push(
            `${where}: ${check.missing} segments missing although the origin window (${P.windowSegments}) covers the failover: ${check.missingMsns.slice(0, 20).join(',')}`,
          );
        if (check.statusSegments !== undefined && check.statusSegments !== check.written)
          problems.push(
            `${where}: status says ${check.statusSegments} segments, the chunklist lists ${check.written}`,
          );
        if (!check.endlist) problems.push(`${where}: chunklist does not end with ENDLIST`);
        if (check.bytesBad > 0)
          problems.push(`${where}: ${check.bytesBad} segments differ from the origin's bytes`);
        if (check.timingBad > 0)
          problems.push(`${where}: ${check.timingBad} segments with a wrong EXTINF or PDT`);
        if (check.discontinuities !== countRuns(check.missingMsns))
          problems.push(
            `${where}: ${check.discontinuities} discontinuities for ${countRuns(check.missingMsns)} gaps`,
          );
        if ((check.behindEdgeAtStop ?? 0) > 3)
          problems.push(
            `${where}: the last dumped segment was ${check.behindEdgeAtStop} behind the origin's edge at the stop`,
          );
      }
      // The same first MSN on every rendition: a dump starts at one live edge.
      const firsts = new Set(renditionChecks.filter((x) => x.dump === name).map((x) => x.first));
      if (firsts.size !== 1)
        problems.push(`${name}: renditions start at different MSNs ${[...firsts].join(',')}`);

      const info: InfoCheck = {
        dump: name,
        status: '?',
        items: 0,
        seqContinuous: false,
        missingFiles: 0,
        unlisted: [],
        segmentItemsTwice: 0,
      };
      infoChecks.push(info);
      try {
        const doc = await readInfoFile(d.dump.infoFile!);
        info.status = doc.status;
        info.items = doc.items.length;
        info.seqContinuous = doc.items.every((item, index) => item.seq === index);
        const listed = new Map<string, number>();
        for (const item of doc.items) {
          listed.set(item.file, (listed.get(item.file) ?? 0) + 1);
          if (!existsSync(item.file)) info.missingFiles++;
        }
        for (const file of segmentFiles) if ((listed.get(file) ?? 0) > 1) info.segmentItemsTwice++;
        for (const file of await readdir(d.dump.outputPath))
          if (!listed.has(join(d.dump.outputPath, file))) info.unlisted.push(file);
        const notListed = [...segmentFiles].filter((f) => !listed.has(f)).length;
        if (notListed > 0)
          problems.push(`${name}: ${notListed} chunklist segments have no infoFile Item`);
      } catch (error) {
        problems.push(`${name}: infoFile unreadable: ${String(error)}`);
      }
      if (info.status !== 'Completed') problems.push(`${name}: infoFile status ${info.status}`);
      if (!info.seqContinuous) problems.push(`${name}: infoFile Seq not 0..n-1`);
      if (info.missingFiles > 0)
        problems.push(`${name}: ${info.missingFiles} infoFile Items name files that do not exist`);
      const temps = info.unlisted.filter((f) => TEMP_FILE.test(f));
      const others = info.unlisted.filter((f) => !TEMP_FILE.test(f));
      if (temps.length > 0)
        problems.push(
          `${name}: ${temps.length} temporary files of interrupted writes left in outputPath, not in the infoFile: ${temps.slice(0, 5).join(', ')}`,
        );
      if (others.length > 0)
        problems.push(
          `${name}: ${others.length} files in outputPath not in the infoFile: ${others.slice(0, 5).join(', ')}`,
        );
      if (info.segmentItemsTwice > 0)
        problems.push(
          `${name}: ${info.segmentItemsTwice} segment files listed twice in the infoFile`,
        );
    }
    const incomplete = kills.filter((k) => k.dumps.some((s) => k.failoverMs[s] === undefined));
    if (kills.length === 0)
      problems.push('no worker was killed: raise SOAK_MEDIA_HOURS or lower SOAK_KILL_EVERY_S');

    // -------------------------------------------------------------- the report
    const failovers = kills.flatMap((k) =>
      Object.values(k.failoverMs).flatMap((v) => (v === undefined ? [] : [v])),
    );
    const catchUps = kills.flatMap((k) =>
      Object.values(k.catchUpMs).flatMap((v) => (v === undefined ? [] : [v])),
    );
    const allLags = soaked.flatMap((d) => d.lags);
    const steadyLags = soaked.flatMap((d) => d.steadyLags);
    const sum = (f: (x: RenditionCheck) => number): number =>
      renditionChecks.reduce((a, x) => a + f(x), 0);
    const machine = machineLines();
    const redisVersion = /v=(\S+)/.exec(tryRun('redis-server', ['--version']))?.[1] ?? '?';
    const commit = tryRun('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
    const dirty = tryRun('git', ['-C', REPO_ROOT, 'status', '--porcelain']).length > 0;
    const preset =
      P.label ||
      (P.mediaHours === 24 &&
      P.speed === 30 &&
      P.dumps === 3 &&
      P.killEveryS === 180 &&
      P.restart === 'after-takeover'
        ? 'default (a simulated day)'
        : 'custom');
    const verdict = problems.length === 0 ? 'PASS' : `FAIL (${problems.length} problems)`;
    const workerSamples = incarnations.filter((i) => i.samples > 0);
    const lines: string[] = [];
    const row = (...cells: (string | number)[]): void =>
      void lines.push(`| ${cells.join(' | ')} |`);
    lines.push(
      `## ${new Date(startedMs).toISOString().replace(/\.\d+Z$/, 'Z')} — ${preset}: ${verdict}`,
      '',
      `Machine: ${machine.cpu}, ${machine.cores || cpus().length} cores, ${machine.memoryGiB || Math.round(totalmem() / 2 ** 30)} GiB, ${machine.os} (Linux ${release()}), Node ${process.version}, redis-server ${redisVersion}; commit ${commit || '?'}${dirty ? ' + uncommitted changes' : ''}.`,
      '',
      `Parameters: \`SOAK_MEDIA_HOURS=${P.mediaHours} SOAK_SPEED=${P.speed} SOAK_DUMPS=${P.dumps} SOAK_WORKERS=${P.workers} SOAK_KILL_EVERY_S=${P.killEveryS} SOAK_RESTART=${P.restart} SOAK_SEED=${P.seed}\`` +
        ` — origin window ${P.windowSegments} segments of ${SEGMENT_S} s (${fmt((P.windowSegments * SEGMENT_S) / P.speed, 1)} real s; failover budget ${P.failoverBudgetS} s × 2),` +
        ` 3 renditions per stream (video_0, video_1, audio_0), LL-HLS, workers with LOCK_DURATION_MS=${WORKER_ENV.LOCK_DURATION_MS} STALLED_INTERVAL_MS=${WORKER_ENV.STALLED_INTERVAL_MS} HEARTBEAT_MS=${WORKER_ENV.HEARTBEAT_MS};` +
        ` a kill every ${P.killEveryS * 0.5}–${P.killEveryS * 1.5} real s among workers that own dumps; bytes compared for ${P.bytesEvery === 1 ? 'every segment' : `every ${P.bytesEvery}th segment and every segment around a kill`}.`,
      '',
      '| Run | |',
      '| --- | --- |',
    );
    row(
      'media time simulated',
      `${hms(mediaAtStopS)} (${fmt(mediaAtStopS / 3600, 2)} h of ${P.mediaHours} h)`,
    );
    row(
      'real time (start → all stopped)',
      `${hms(realS)} (planned ${hms(PLANNED_REAL_S)})${deadlineHit ? ' — DEADLINE HIT' : ''}`,
    );
    row(
      'dumps',
      `${P.dumps} started, ${soaked.filter((d) => d.final?.status === 'Completed').length} Completed, stops answered ${soaked.map((d) => d.stopStatus).join('/')} in ${soaked.map((d) => secs(d.stopMs)).join('/')} s`,
    );
    row(
      'kills (SIGKILL)',
      `${kills.length}, moving ${kills.reduce((a, k) => a + k.dumps.length, 0)} dumps; ${incomplete.length} without a takeover`,
    );
    row(
      'failover (kill → another owner Running)',
      failovers.length
        ? `min ${secs(Math.min(...failovers))} s, p50 ${secs(percentile(failovers, 50))} s, max ${secs(Math.max(...failovers))} s`
        : '–',
    );
    row(
      'back at the live edge (kill → ≤ 2 segments behind)',
      catchUps.length
        ? `p50 ${secs(percentile(catchUps, 50))} s, max ${secs(Math.max(...catchUps))} s`
        : '–',
    );
    row(
      'lag behind the origin edge, segments (steady / all samples)',
      `p50 ${fmt(percentile(steadyLags, 50))}, p99 ${fmt(percentile(steadyLags, 99))}, max ${fmt(steadyLags.length ? Math.max(...steadyLags) : undefined)} / max ${fmt(allLags.length ? Math.max(...allLags) : undefined)}`,
    );
    row('segments expected vs written', `${sum((x) => x.expected)} vs ${sum((x) => x.written)}`);
    row(
      'missing MSNs in chunklists / gaps in status',
      `${sum((x) => x.missing)} / ${sum((x) => x.statusGaps ?? 0)}`,
    );
    row('duplicates / out of order', `${sum((x) => x.duplicates)} / ${sum((x) => x.outOfOrder)}`);
    row(
      'segments byte-compared with the origin / differing',
      `${sum((x) => x.bytesChecked)} / ${sum((x) => x.bytesBad)}`,
    );
    const bytesWritten = soaked.reduce(
      (a, d) => a + (d.final?.renditions ?? []).reduce((b, r) => b + r.bytes, 0),
      0,
    );
    row(
      'bytes written (status)',
      `${fmt(bytesWritten / 2 ** 30, 2)} GiB (${fmt(bytesWritten / 2 ** 20 / P.dumps / (mediaAtStopS / 3600), 0)} MiB per dump per media hour)`,
    );
    row('origin requests', `${requestsSeen} (${fmt(requestsSeen / realS, 0)}/s)`);
    row(
      'CPU: workers / gateway / soak process (origin + checks)',
      `${fmt(
        incarnations.reduce((a, i) => a + i.cpuS, 0),
        0,
      )} s / ${fmt(gatewayMem.cpuS, 0)} s / ${fmt((testCpu.user + testCpu.system) / 1e6, 0)} s over ${fmt(realS, 0)} s real`,
    );
    row(
      'peak RSS: gateway / soak process',
      `${mib(gatewayMem.hwmKb)} MiB / ${mib(selfMem.rssMaxKb)} MiB`,
    );
    lines.push('', '**Per dump and rendition**', '');
    lines.push(
      '| dump | rendition | first–last MSN | expected | written | missing | status gaps | dup | discont. | bytes checked / bad | behind edge at stop |',
    );
    lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    for (const x of renditionChecks)
      row(
        x.dump,
        x.rendition,
        `${x.first ?? '–'}–${x.last ?? '–'}`,
        x.expected,
        x.written,
        x.missing,
        x.statusGaps ?? '–',
        x.duplicates,
        x.discontinuities,
        `${x.bytesChecked} / ${x.bytesBad}`,
        x.behindEdgeAtStop ?? '–',
      );
    lines.push('', '**Per dump: infoFile and owners**', '');
    lines.push(
      '| dump | infoFile status | Items | Seq 0..n-1 | Items of missing files | files not listed (of them temp files) | segment Items twice | owners seen | lag p50 / max (segments) |',
    );
    lines.push('| --- | --- | ---: | --- | ---: | ---: | ---: | --- | --- |');
    for (const i of infoChecks) {
      const d = soaked.find((x) => x.dump.stream === i.dump)!;
      row(
        i.dump,
        i.status,
        i.items,
        i.seqContinuous ? 'yes' : 'NO',
        i.missingFiles,
        `${i.unlisted.length} (${i.unlisted.filter((f) => TEMP_FILE.test(f)).length})`,
        i.segmentItemsTwice,
        [...d.owners].sort().join(', '),
        `${fmt(percentile(d.lags, 50))} / ${fmt(d.lags.length ? Math.max(...d.lags) : undefined)}`,
      );
    }
    lines.push('', '**Kills**', '');
    lines.push(
      '| # | real time | media time | killed | its dumps | failover per dump (s) | new owner | back at edge (s) | worker back after (s) |',
    );
    lines.push('| ---: | --- | --- | --- | --- | --- | --- | --- | ---: |');
    for (const k of kills)
      row(
        k.n,
        hms((k.atMs - startedMs) / 1000),
        hms(k.atMediaS),
        `${k.worker}#${k.incarnation}`,
        k.dumps.join(', '),
        k.dumps.map((s) => secs(k.failoverMs[s])).join(', '),
        k.dumps.map((s) => k.newOwner[s] ?? '–').join(', '),
        k.dumps.map((s) => secs(k.catchUpMs[s])).join(', '),
        secs(k.restartMs),
      );
    lines.push(
      '',
      '**Worker memory per incarnation** (VmRSS sampled every ' + P.sampleS + ' s; peak = VmHWM)',
      '',
    );
    lines.push(
      '| worker | incarnation | pid | lived | ended | max dumps held | RSS first / last / max (MiB) | peak VmHWM (MiB) | CPU s |',
    );
    lines.push('| --- | ---: | ---: | --- | --- | ---: | --- | ---: | ---: |');
    for (const i of workerSamples)
      row(
        i.worker,
        i.n,
        i.pid,
        hms(((i.endedMs ?? Date.now()) - i.startedMs) / 1000),
        i.killed ? 'SIGKILL' : 'end of run',
        i.dumpsMax,
        `${mib(i.rssFirstKb)} / ${mib(i.rssLastKb)} / ${mib(i.rssMaxKb)}`,
        mib(i.hwmKb),
        fmt(i.cpuS, 0),
      );
    lines.push(
      '',
      `**Memory over the run** (per worker: incarnation, dumps held, RSS / ${USE_HEAP_PROBE ? 'live heap after a full GC' : 'live heap (not probed)'} in MiB)`,
      '',
    );
    lines.push(`| media time | real time | ${c.workers.map((w) => w.id).join(' | ')} |`);
    lines.push(`| --- | --- | ${c.workers.map(() => '---').join(' | ')} |`);
    for (const t of timeline)
      row(
        hms(t.mediaS),
        hms(t.realS),
        ...c.workers.map((w) => {
          const cell = t.cells[w.id];
          return cell
            ? `#${cell.n}, ${cell.dumps} dumps: ${mib(cell.rssKb)} / ${mib(cell.heapKb)}`
            : '(restarting)';
        }),
      );
    lines.push('', '**Peak memory per worker (any incarnation)**', '');
    lines.push('| worker | incarnations | peak VmHWM (MiB) | longest life |');
    lines.push('| --- | ---: | ---: | --- |');
    for (const w of c.workers) {
      const mine = workerSamples.filter((i) => i.worker === w.id);
      row(
        w.id,
        mine.length,
        mib(Math.max(...mine.map((i) => i.hwmKb))),
        hms(Math.max(...mine.map((i) => ((i.endedMs ?? Date.now()) - i.startedMs) / 1000))),
      );
    }
    if (warnings.size > 0) {
      lines.push('', '**Warnings and errors logged**', '');
      lines.push('| process / level: message | count |');
      lines.push('| --- | ---: |');
      for (const [k, v] of [...warnings].sort((a, b) => b[1] - a[1])) row(k, v);
    }
    lines.push('', problems.length === 0 ? '**Problems: none.**' : '**Problems**', '');
    for (const p of problems) lines.push(`- ${p}`);
    lines.push(
      '',
      `Logs of every process: \`${logDir}\`${P.keep || problems.length > 0 ? `; dumps kept in \`${outDir}\`` : ' (dumps removed)'}.`,
      '',
      '',
    );
    const section = lines.join('\n');

    if (!existsSync(P.results))
      await writeFile(
        P.results,
        '# Soak runs\n\nAppended by `npm run soak` (`test/soak/cluster-soak.soak.ts`; how to run it: `bench/README.md`, "Soak"). One section per run, newest last.\n\n',
      );
    await appendFile(P.results, section);
    console.log(`\n${section}`);
    note(`appended to ${P.results}`);

    if (!P.keep && problems.length === 0) await rm(outDir, { recursive: true, force: true });
    expect(problems, `soak problems (logs in ${logDir})`).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

/** Runs of consecutive numbers in a sorted list: the gaps a chunklist marks with a discontinuity each. */
function countRuns(sorted: number[]): number {
  let runs = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]! + 1) runs++;
  return runs;
}

function tryRun(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}
