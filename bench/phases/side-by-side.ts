// Phase `main`: K streams recorded by hlsdump on W workers, by one ffmpeg per stream and by W loop
// peers (the simplest live copy in Node, at a worker's density), side by side for T seconds: CPU
// per media-hour, lag, memory per dump, origin requests.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RENDITIONS_PER_STREAM,
  SEGMENT_SECONDS,
  type BenchRun,
  type ClusterContext,
} from '../bench-run.ts';
import type { ClusterWorker } from '../../test/support/cluster.ts';
import {
  addCompletion,
  type BenchDump,
  completed,
  fileBytes,
  readSegmentItems,
  type ItemCounts,
} from '../lib/dump-files.ts';
import { startFfmpegPeers, stopFfmpegPeers, type Peer } from '../lib/ffmpeg-peers.ts';
import { fileCreationCostUs } from '../lib/file-creation-cost.ts';
import type { Follower } from '../lib/follower-host.ts';
import { startLoopPeers, stopLoopPeers } from '../lib/loop-peers.ts';
import type { OriginHost } from '../lib/origin-host.ts';
import type { RequestCounts } from '../lib/origin-process.ts';
import { liveBytes, probeHeap, type HeapReport } from '../../test/support/heap-probe.ts';
import { cpuSeconds, rssBytes, totalCpu } from '../../test/support/proc-stats.ts';
import { groupCpu, startSampler, type Sampler } from '../lib/proc-sampler.ts';
import { fmt, mb, ms, summary, type Summary } from '../lib/stats.ts';
import type { Section, Target } from '../report.ts';
import { workersA } from '../run-options.ts';

export interface SideBySideResult {
  K: number;
  renditions: number;
  workers: number;
  windowS: number;
  mediaHours: number;
  workerCpu: number;
  cpuPerMediaHour: number;
  originCpu: number;
  gatewayAndRedisCpu: number;
  lag: Summary;
  fetchLag: Summary;
  expectedSegments: number;
  counts: ItemCounts;
  segmentBytes: number;
  bytesPerCpuS: number;
  memory: {
    baseRss: (number | undefined)[];
    rssAtB: (number | undefined)[];
    baseLive: number;
    liveB: number;
    perDumpLive: number;
    perDumpRss: number;
    growthPerHourPerDump: number;
  };
  requestCounts: RequestCounts;
  /** The window cut in slices: how a worker's cost moves over its first minutes, beside ffmpeg's. */
  slices: CpuSlice[];
  /** `--worker-b-flag`, `--worker-b-tree`: the two kinds of worker, apart. */
  ab: WorkerAb | undefined;
  /** Kernel CPU per file created, µs: on the output's file system, and on tmpfs beside it. */
  fileCreationUs: { output: number; tmpfs: number | undefined };
  starts: Summary;
  stops: Summary;
  ffmpeg:
    | {
        processes: number;
        cpu: number;
        cpuPerMediaHour: number;
        lag: Summary;
        rssPerProcess: Summary;
        exits: Record<string, number>;
      }
    | undefined;
  /** The loop peers (`--no-loop`: none). */
  loop:
    | {
        processes: number;
        cpu: number;
        cpuPerMediaHour: number;
        reloads: number;
        failures: number;
      }
    | undefined;
}

/** CPU s per media-hour per rendition over one slice of the measured window. */
interface CpuSlice {
  fromS: number;
  toS: number;
  hlsdump: number;
  ffmpeg: number | undefined;
  loop: number | undefined;
}

/** Two kinds of workers on the same streams in one window: CPU s per media-hour per rendition. */
interface WorkerAb {
  flags: string[];
  tree: string | undefined;
  /** Renditions each kind recorded, by the dumps' owners at the window's end. */
  renditionsA: number;
  renditionsB: number;
  /** Some dump changed owner between the window's start and end (the figures then mix). */
  moved: boolean;
  wholeA: number;
  wholeB: number;
  slices: { fromS: number; toS: number; a: number; b: number }[];
}

/** Slices of at least 30 s, at most 6 of them. */
const SLICE_MIN_S = 30;
const SLICES_MAX = 6;

export async function runSideBySide(
  run: BenchRun,
  cluster: ClusterContext,
  workers: ClusterWorker[],
): Promise<SideBySideResult> {
  const { origin } = cluster;
  const { options } = run;
  const K = options.streams;
  const dumps = cluster.mainStreams.map((s) => run.dumpSpec(s, 'main'));
  const pidsOf = (some: ClusterWorker[]) =>
    some.flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  const workerPids = pidsOf(workers);
  const countA = workersA(options);
  const kindA = workers.slice(0, countA);
  const kindB = workers.slice(countA);
  const fileCreationUs = {
    output: fileCreationCostUs(run.outputRoot),
    tmpfs: existsSync('/dev/shm') ? fileCreationCostUs('/dev/shm') : undefined,
  };
  await sleep(2_000);
  const baseHeap = await probeAll(run, workerPids);
  const baseRss = workerPids.map((pid) => rssBytes(pid));
  let peers: Peer[] = [];
  let loops: Follower[] = [];
  const loopPids = () => loops.flatMap((l) => (l.child.pid === undefined ? [] : [l.child.pid]));
  const sampler = startSampler(() => ({
    workers: workerPids,
    ffmpeg: peers.map((p) => p.pid).filter((pid): pid is number => pid !== undefined),
    loop: loopPids(),
    origin: [origin.pid],
    gateway: run.cluster.gateway.pid === undefined ? [] : [run.cluster.gateway.pid],
    redis: run.cluster.redis.process?.pid === undefined ? [] : [run.cluster.redis.process.pid],
    workersA: pidsOf(kindA),
    workersB: pidsOf(kindB),
  }));
  run.log(
    `main: ${K} streams × ${RENDITIONS_PER_STREAM} renditions, ${workers.length} workers, ${options.seconds} s (+${options.warmup} s warm-up), ffmpeg peers: ${options.ffmpeg}, loop peers: ${options.loop}`,
  );
  peers = options.ffmpeg ? await startFfmpegPeers(run, origin, cluster.mainStreams) : [];
  loops = options.loop
    ? await startLoopPeers(run, origin, cluster.mainStreams, workers.length)
    : [];
  const starts = await run.startDumps(dumps, K);
  await sleep(options.warmup * 1000);
  const heapA = await probeAll(run, workerPids);
  const a = snapshot(workerPids, peers, loopPids(), origin);
  const loopCountsA = await Promise.all(loops.map((l) => l.count()));
  const ownersAtStart = kindB.length > 0 ? await owners(run, dumps) : [];
  await sleep(options.seconds * 1000);
  const b = snapshot(workerPids, peers, loopPids(), origin);
  const loopCountsB = await Promise.all(loops.map((l) => l.count()));
  stopLoopPeers(run, loops);
  const ownersAtEnd = kindB.length > 0 ? await owners(run, dumps) : [];
  const heapB = await probeAll(run, workerPids);
  const stops = await run.stopDumps(dumps, K);
  const exits = await stopFfmpegPeers(run, peers);
  sampler.stop();

  const windowS = (b.at - a.at) / 1000;
  const renditions = K * RENDITIONS_PER_STREAM;
  const mediaHours = (renditions * windowS * options.speed) / 3600;
  const { items, counts } = await readSegmentItems(dumps);
  await addCompletion(origin, items);
  const inWindow = completed(items).filter(
    (it) => it.completedMs >= Math.max(a.at, it.requestedAt) && it.completedMs <= b.at,
  );
  const segmentBytes = await fileBytes(
    items.filter((it) => it.itemMs >= a.at && it.itemMs <= b.at),
  );
  // hlsdump's own fetches (User-Agent hlsdump/...) and ffmpeg's (Lavf/...), at the origin.
  const fetchLag = await requestLag(origin, cluster.mainStreams, 'hlsdump', a.at, b.at);
  const ffmpegLag = await requestLag(origin, cluster.mainStreams, 'Lavf', a.at, b.at);
  const requestCounts = await origin.call('requestCounts', {
    streams: cluster.mainStreams,
    sinceMs: a.at,
    untilMs: b.at,
  });
  const workerCpu = b.workers - a.workers;
  const ffmpegCpu = b.ffmpeg - a.ffmpeg;
  const loopCpu = b.loop - a.loop;
  const loopCount = (key: 'reloads' | 'failures') =>
    loopCountsB.reduce((sum, c, i) => sum + c[key] - loopCountsA[i]![key], 0);
  // Memory: live heap after a full GC, per worker, before the dumps, after the warm-up and at the
  // end; RSS beside it.
  const sumLive = (hs: (HeapReport | undefined)[]) =>
    hs.reduce((sum, h) => sum + (liveBytes(h) ?? 0), 0);
  return {
    K,
    renditions,
    workers: workers.length,
    windowS,
    mediaHours,
    workerCpu,
    cpuPerMediaHour: workerCpu / mediaHours,
    originCpu: b.origin - a.origin,
    gatewayAndRedisCpu:
      groupCpu(sampler, 'gateway', a.at, b.at) + groupCpu(sampler, 'redis', a.at, b.at),
    lag: summary(inWindow.map((it) => it.lagMs)),
    fetchLag: summary(fetchLag),
    expectedSegments: Math.round((renditions * windowS * options.speed) / SEGMENT_SECONDS),
    counts,
    segmentBytes,
    bytesPerCpuS: segmentBytes / workerCpu,
    memory: {
      baseRss,
      rssAtB: b.workerRss,
      baseLive: sumLive(baseHeap),
      liveB: sumLive(heapB),
      perDumpLive: (sumLive(heapB) - sumLive(baseHeap)) / K,
      perDumpRss:
        b.workerRss.reduce<number>((sum, x, i) => sum + ((x ?? 0) - (baseRss[i] ?? 0)), 0) / K,
      // Growth of the live heap over the measured window, per dump, scaled to one hour.
      growthPerHourPerDump: ((sumLive(heapB) - sumLive(heapA)) / K) * (3600 / windowS),
    },
    requestCounts,
    slices: cpuSlices(sampler, a.at, b.at, (renditions * options.speed) / 3600, {
      ffmpeg: options.ffmpeg,
      loop: loops.length > 0,
    }),
    ab:
      kindB.length > 0
        ? workerAb(sampler, a.at, b.at, options.speed, options.workerBFlags, options.workerBTree, {
            idsOfA: kindA.map((w) => w.id),
            ownersAtStart,
            ownersAtEnd,
          })
        : undefined,
    fileCreationUs,
    starts: summary(starts.map((r) => r.ms)),
    stops: summary(stops.map((r) => r.ms)),
    ffmpeg: options.ffmpeg
      ? {
          processes: peers.length,
          cpu: ffmpegCpu,
          cpuPerMediaHour: ffmpegCpu / mediaHours,
          lag: summary(ffmpegLag),
          rssPerProcess: summary(b.ffmpegRss.filter((x): x is number => x !== undefined)),
          exits,
        }
      : undefined,
    loop:
      loops.length > 0
        ? {
            processes: loops.length,
            cpu: loopCpu,
            cpuPerMediaHour: loopCpu / mediaHours,
            reloads: loopCount('reloads'),
            failures: loopCount('failures'),
          }
        : undefined,
  };
}

function cpuSlices(
  sampler: Sampler,
  from: number,
  to: number,
  mediaHoursPerSecond: number,
  peers: { ffmpeg: boolean; loop: boolean },
): CpuSlice[] {
  return sliceBounds(from, to).map(([a, b]) => ({
    fromS: (a - from) / 1000,
    toS: (b - from) / 1000,
    hlsdump: cpuPerMediaHour(sampler, 'workers', a, b, mediaHoursPerSecond),
    ffmpeg: peers.ffmpeg
      ? cpuPerMediaHour(sampler, 'ffmpeg', a, b, mediaHoursPerSecond)
      : undefined,
    loop: peers.loop ? cpuPerMediaHour(sampler, 'loop', a, b, mediaHoursPerSecond) : undefined,
  }));
}

/** A sampled group's CPU s between two moments, per media-hour it recorded meanwhile. */
function cpuPerMediaHour(
  sampler: Sampler,
  group: string,
  from: number,
  to: number,
  mediaHoursPerSecond: number,
): number {
  return groupCpu(sampler, group, from, to) / ((mediaHoursPerSecond * (to - from)) / 1000);
}

/** The window cut in equal slices (SLICE_MIN_S, SLICES_MAX): [from, to) moments. */
function sliceBounds(from: number, to: number): [number, number][] {
  const count = Math.max(1, Math.min(SLICES_MAX, Math.floor((to - from) / 1000 / SLICE_MIN_S)));
  const sliceMs = (to - from) / count;
  return Array.from({ length: count }, (_, i) => [from + i * sliceMs, from + (i + 1) * sliceMs]);
}

/** Each dump's owner (a worker id), in the order of `dumps`. */
async function owners(run: BenchRun, dumps: BenchDump[]): Promise<(string | undefined)[]> {
  return Promise.all(
    dumps.map(
      async (d) => (await run.cluster.status('default', d.app, d.stream, d.id)).dump?.owner,
    ),
  );
}

function workerAb(
  sampler: Sampler,
  from: number,
  to: number,
  speed: number,
  flags: string[],
  tree: string | undefined,
  dumps: {
    idsOfA: string[];
    ownersAtStart: (string | undefined)[];
    ownersAtEnd: (string | undefined)[];
  },
): WorkerAb {
  const { idsOfA, ownersAtStart, ownersAtEnd } = dumps;
  const ofA = ownersAtEnd.filter((o) => o !== undefined && idsOfA.includes(o)).length;
  const renditionsA = ofA * RENDITIONS_PER_STREAM;
  const renditionsB = (ownersAtEnd.length - ofA) * RENDITIONS_PER_STREAM;
  const perHour = (group: string, renditions: number, a: number, b: number) =>
    cpuPerMediaHour(sampler, group, a, b, (renditions * speed) / 3600);
  return {
    flags,
    tree,
    renditionsA,
    renditionsB,
    moved: ownersAtStart.some((o, i) => o !== ownersAtEnd[i]),
    wholeA: perHour('workersA', renditionsA, from, to),
    wholeB: perHour('workersB', renditionsB, from, to),
    slices: sliceBounds(from, to).map(([a, b]) => ({
      fromS: (a - from) / 1000,
      toS: (b - from) / 1000,
      a: perHour('workersA', renditionsA, a, b),
      b: perHour('workersB', renditionsB, a, b),
    })),
  };
}

function probeAll(run: BenchRun, pids: number[]): Promise<(HeapReport | undefined)[]> {
  return Promise.all(pids.map((pid) => probeHeap(pid, run.probeDir)));
}

function snapshot(workerPids: number[], peers: Peer[], loopPids: number[], origin: OriginHost) {
  return {
    at: Date.now(),
    workers: totalCpu(workerPids),
    workerRss: workerPids.map((pid) => rssBytes(pid)),
    ffmpeg: totalCpu(peers.map((p) => p.pid)),
    loop: totalCpu(loopPids),
    ffmpegRss: peers.map((p) => rssBytes(p.pid)),
    origin: cpuSeconds(origin.pid) ?? 0,
  };
}

/** Lag from each segment's completion at the origin to a client's request for it (first request). */
async function requestLag(
  origin: OriginHost,
  streams: string[],
  userAgent: string,
  from: number,
  to: number,
): Promise<number[]> {
  const lags: number[] = [];
  for (const stream of streams) {
    const requests = await origin.call('requests', { stream, userAgent, sinceMs: from - 60_000 });
    const first = new Map<string, { track: number; msn: number; wallMs: number }>();
    for (const [track, msn, wallMs] of requests) {
      const key = `${track}/${msn}`;
      if (!first.has(key)) first.set(key, { track, msn, wallMs });
    }
    const list = [...first.values()];
    const times = await origin.call('completedAt', {
      queries: list.map((r) => [stream, r.track, r.msn]),
    });
    list.forEach((r, i) => {
      const t = times[i];
      if (typeof t === 'number' && t >= from && t <= to) lags.push(r.wallMs - t);
    });
  }
  return lags;
}

export function sideBySideSection(x: SideBySideResult, warmup: number): Section {
  const L: string[] = [];
  const targets: Target[] = [];
  const f = x.ffmpeg;
  const loop = x.loop;
  L.push(
    `### Side by side: ${x.K} streams × 3 renditions = ${x.renditions} live renditions, ${x.workers} worker processes, ${fmt(x.windowS, 0)} s measured (after ${warmup} s warm-up)`,
    '',
    '| Figure | hlsdump | ffmpeg -c copy (one process per stream) |',
    '| --- | ---: | ---: |',
    `| CPU s per media-hour per rendition | ${fmt(x.cpuPerMediaHour, 2)} | ${f ? fmt(f.cpuPerMediaHour, 2) : 'n/a'} |`,
    `| CPU s in the window (all processes of that kind) | ${fmt(x.workerCpu, 2)} | ${f ? fmt(f.cpu, 2) : 'n/a'} |`,
    `| Lag p50 / p99 / max, ms | ${ms(x.lag.p50)} / ${ms(x.lag.p99)} / ${ms(x.lag.max)} (n=${x.lag.n} of ~${x.expectedSegments}) | ${f ? `${ms(f.lag.p50)} / ${ms(f.lag.p99)} / ${ms(f.lag.max)} (n=${f.lag.n}, GET at origin)` : 'n/a'} |`,
    `| hlsdump's own GET of the segment at the origin, lag p50 / p99 / max, ms | ${ms(x.fetchLag.p50)} / ${ms(x.fetchLag.p99)} / ${ms(x.fetchLag.max)} | |`,
    `| Memory per dump: live heap after GC (heapUsed + external) | ${mb(x.memory.perDumpLive, 2)} MB (workers ${mb(x.memory.baseLive)} MB idle → ${mb(x.memory.liveB)} MB) | |`,
    `| Memory per dump: resident (RSS) | ${mb(x.memory.perDumpRss, 2)} MB (worker RSS ${x.memory.rssAtB.map((v) => mb(v)).join(' + ')} MB, idle ${x.memory.baseRss.map((v) => mb(v)).join(' + ')} MB) | ${f ? `${mb(f.rssPerProcess.p50)} MB per process (p50; one process per stream)` : 'n/a'} |`,
    `| Live-heap growth over the window, per dump, scaled to 1 h | ${mb(x.memory.growthPerHourPerDump, 2)} MB/h | |`,
    `| Segment bytes written per worker CPU second | ${mb(x.bytesPerCpuS, 2)} MB/s | |`,
  );
  const perHour = (n: number | undefined) => fmt((n ?? 0) / x.mediaHours, 0);
  const rc = x.requestCounts;
  L.push(
    `| Origin requests per media-hour per rendition: playlists / segments | ${perHour(rc.hlsdump?.chunklist)} / ${perHour(rc.hlsdump?.segment)} | ${perHour(rc.Lavf?.chunklist)} / ${perHour(rc.Lavf?.segment)} |`,
    `| TCP connections opened per media-hour per rendition | ${perHour(rc.hlsdump?.['connections opened'])} | ${perHour(rc.Lavf?.['connections opened'])} |`,
    '',
    `- Other processes in the window: origin ${fmt(x.originCpu, 1)} CPU s (serving hlsdump, ffmpeg and the loop peers), gateway + Redis ${fmt(x.gatewayAndRedisCpu, 1)} CPU s.`,
    `- Starts with ${x.K} in flight: p50 ${ms(x.starts.p50)} ms, p99 ${ms(x.starts.p99)} ms; stops: p50 ${ms(x.stops.p50)} ms, p99 ${ms(x.stops.p99)} ms.`,
    `- infoFiles: ${JSON.stringify(x.counts.status)}, ${x.counts.items} Items (${x.counts.segments} segments, ${x.counts.chunklists} chunklist updates, ${x.counts.other} init/master).`,
  );
  const segmentsPerHour = (rc.hlsdump?.segment ?? 0) / x.mediaHours;
  const creationS = (segmentsPerHour * x.fileCreationUs.output) / 1e6;
  L.push(
    `- Creating a file costs ${fmt(x.fileCreationUs.output, 0)} µs of kernel CPU on the output's file system${x.fileCreationUs.tmpfs === undefined ? '' : ` (tmpfs on this machine: ${fmt(x.fileCreationUs.tmpfs, 0)} µs)`}. hlsdump writes each segment as a file of its own, as OME's dump does (${fmt(segmentsPerHour, 0)} per media-hour per rendition): about ${fmt(creationS, 2)} of its ${fmt(x.cpuPerMediaHour, 2)} CPU s per media-hour per rendition is the kernel creating them. The ffmpeg peer writes one MPEG-TS file per stream.`,
  );
  if (f) L.push(`- ffmpeg exits: ${JSON.stringify(f.exits)}.`);
  if (loop) {
    L.push(
      `- Loop peers (the simplest live copy in Node: node:http, a blocking reload per segment, each new segment piped to a file of its own; \`bench/lib/live-follower.ts\`, the worker's Node flags), ${loop.processes} processes of ${fmt(x.renditions / loop.processes, 0)} renditions each, as the workers carry: ${fmt(loop.cpuPerMediaHour, 2)} CPU s per media-hour per rendition (${fmt(loop.cpu, 2)} CPU s in the window, ${loop.reloads} blocking reloads, ${loop.failures} failed requests)${f ? `, ×${fmt(loop.cpuPerMediaHour / f.cpuPerMediaHour, 2)} ffmpeg's` : ''}.`,
    );
  }
  L.push('');
  if (x.slices.length > 1) {
    L.push(
      'CPU s per media-hour per rendition, slice by slice of the window (from the 1 s samples: how the cost moves as the processes run):',
      '',
      '| Slice (s into the window) | hlsdump | ffmpeg | ratio | loop peers | hlsdump / loop |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...x.slices.map(
        (c) =>
          `| ${fmt(c.fromS, 0)}–${fmt(c.toS, 0)} | ${fmt(c.hlsdump, 2)} | ${c.ffmpeg === undefined ? 'n/a' : fmt(c.ffmpeg, 2)} | ${c.ffmpeg ? `×${fmt(c.hlsdump / c.ffmpeg, 2)}` : 'n/a'} | ${c.loop === undefined ? 'n/a' : fmt(c.loop, 2)} | ${c.loop ? `×${fmt(c.hlsdump / c.loop, 2)}` : 'n/a'} |`,
      ),
      '',
    );
  }
  if (x.ab) L.push(...abLines(x.ab));
  if (f) {
    const ratio = x.cpuPerMediaHour / f.cpuPerMediaHour;
    targets.push({
      name: "CPU per dumped media-hour ≤ 0.8× ffmpeg's",
      measured: `${fmt(x.cpuPerMediaHour, 2)} vs ${fmt(f.cpuPerMediaHour, 2)} CPU s (×${fmt(ratio, 2)}, target ≤ ×0.8)`,
      met: ratio <= 0.8,
    });
  }
  if (loop) {
    const ratio = x.cpuPerMediaHour / loop.cpuPerMediaHour;
    targets.push({
      name: "CPU per dumped media-hour ≤ 2× the simplest live loop's (loop peers at a worker's density)",
      measured: `${fmt(x.cpuPerMediaHour, 2)} vs ${fmt(loop.cpuPerMediaHour, 2)} CPU s (×${fmt(ratio, 2)}, target ≤ ×2)`,
      met: ratio <= 2,
    });
  }
  targets.push({
    name: 'Lag p99 ≤ one part duration (1 000 ms)',
    measured: `p99 ${ms(x.lag.p99)} ms, max ${ms(x.lag.max)} ms (ffmpeg GET p99 ${f ? ms(f.lag.p99) : 'n/a'} ms)`,
    met: (x.lag.p99 ?? Infinity) <= 1000,
  });
  return { lines: L, targets };
}

function abLines(ab: WorkerAb): string[] {
  const flags = ab.flags.map((flag) => `\`${flag}\``).join(' ');
  const described =
    (ab.tree === undefined ? 'Workers' : `Workers of the build at \`${ab.tree}\``) +
    (flags === '' ? '' : ` with ${flags}`);
  return [
    `${described} (B, ${ab.renditionsB} renditions) beside workers of this build as given (A, ${ab.renditionsA} renditions), on the same streams in the same window: CPU s per media-hour per rendition${ab.moved ? ' (some dump changed owner in the window: the figures mix the two)' : ''}:`,
    '',
    '| Slice (s into the window) | A | B | B / A |',
    '| --- | ---: | ---: | ---: |',
    ...ab.slices.map(
      (c) =>
        `| ${fmt(c.fromS, 0)}–${fmt(c.toS, 0)} | ${fmt(c.a, 2)} | ${fmt(c.b, 2)} | ×${fmt(c.b / c.a, 2)} |`,
    ),
    `| whole window | ${fmt(ab.wholeA, 2)} | ${fmt(ab.wholeB, 2)} | ×${fmt(ab.wholeB / ab.wholeA, 2)} |`,
    '',
  ];
}
