// Phase `memory`: a one-hour dump simulated on an origin whose clock runs fast; the worker's live
// heap after a full GC over the hour, and CPU per media-hour slice by slice.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  RENDITIONS_PER_STREAM,
  SEGMENT_SECONDS,
  type BenchRun,
  type ClusterContext,
} from '../bench-run.ts';
import { diffSnapshots } from '../lib/heap-snapshot.ts';
import { readSegmentItems } from '../lib/dump-files.ts';
import {
  heapSnapshot,
  liveBytes,
  probeHeap,
  type HeapReport,
} from '../../test/support/heap-probe.ts';
import { cpuSeconds, rssBytes } from '../../test/support/proc-stats.ts';
import { fmt, mb, slope } from '../lib/stats.ts';
import type { Section } from '../report.ts';

/** Probes over the hour (each a full GC in the worker, then live heap, RSS and CPU). */
const PROBES = 12;

interface MemoryPoint {
  mediaS: number;
  rss: number | undefined;
  live: number | undefined;
  cpu: number | undefined;
}

export interface MemoryResult {
  M: number;
  speed: number;
  realS: number;
  idleLive: number | undefined;
  idleRss: number | undefined;
  series: MemoryPoint[];
  growthPerHourPerDump: number;
  endMinusWarmPerDump: number;
  cpuPerMediaHourBySlice: number[];
  heapGrowth: Awaited<ReturnType<typeof diffSnapshots>> | { error: string } | undefined;
  growthMediaS: [number | undefined, number | undefined];
  segments: number;
  expectedSegments: number;
  items: number;
  status: Record<string, number>;
}

export async function runMemory(run: BenchRun, cluster: ClusterContext): Promise<MemoryResult> {
  const { memOrigin } = cluster;
  if (!memOrigin) throw new Error('the memory phase needs its fast-clocked origin');
  const { memStreams: M, memSpeed, memMediaSeconds, heapSnapshots } = run.options;
  const names = Array.from({ length: M }, (_, i) => `m${i}`);
  await memOrigin.call('add', { app: 'mem', streams: names, spreadMs: run.spreadMs(memSpeed) });
  const [worker] = await run.startWorkers(1, M + 5);
  const pid = worker!.pid;
  const realS = memMediaSeconds / memSpeed;
  run.log(
    `memory: ${M} dumps on one worker, origin ×${memSpeed}, ${memMediaSeconds} media s in ${fmt(realS)} s`,
  );
  const dumps = names.map((s) => run.dumpSpec(s, 'mem', 'mem'));
  await sleep(2_000);
  const idle = await probeHeap(pid, run.probeDir);
  await run.startDumps(dumps, M);
  const t0 = Date.now();
  const series: MemoryPoint[] = [];
  const snapshots: string[] = [];
  for (let i = 0; i <= PROBES; i++) {
    const due = t0 + (i * realS * 1000) / PROBES;
    if (due > Date.now()) await sleep(due - Date.now());
    let heap: HeapReport | undefined;
    if (heapSnapshots && (i === 1 || i === PROBES)) {
      const path = await heapSnapshot(pid, run.probeDir);
      if (path) snapshots.push(path);
      heap = await probeHeap(pid, run.probeDir);
    } else {
      heap = await probeHeap(pid, run.probeDir);
    }
    series.push({
      mediaS: ((Date.now() - t0) / 1000) * memSpeed,
      rss: rssBytes(pid),
      live: liveBytes(heap),
      cpu: cpuSeconds(pid),
    });
  }
  await run.stopDumps(dumps, M);
  await run.stopWorkers([worker!]);
  const { counts } = await readSegmentItems(dumps);
  // Warm-up excluded: from 1/12 of the hour on.
  const warm = series.slice(1);
  const growthPerHour =
    slope(warm.map((s): [number, number] => [s.mediaS / 3600, s.live ?? 0])) ?? 0;
  const last = series[series.length - 1];
  const slices: number[] = [];
  for (let k = 0; k < series.length - 1; k++) {
    const a = series[k]!;
    const b = series[k + 1]!;
    const cpu = (b.cpu ?? 0) - (a.cpu ?? 0);
    slices.push((cpu * 3600) / ((b.mediaS - a.mediaS) * M * RENDITIONS_PER_STREAM));
  }
  const heapGrowth =
    snapshots.length === 2
      ? await diffSnapshots(snapshots[0]!, snapshots[1]!).catch((e: unknown) => ({
          error: String(e),
        }))
      : undefined;
  return {
    M,
    speed: memSpeed,
    realS,
    idleLive: liveBytes(idle),
    idleRss: idle?.rss,
    series,
    growthPerHourPerDump: growthPerHour / M,
    endMinusWarmPerDump: ((last?.live ?? 0) - (warm[0]?.live ?? 0)) / M,
    cpuPerMediaHourBySlice: slices,
    heapGrowth,
    growthMediaS: [series[1]?.mediaS, last?.mediaS],
    segments: counts.segments,
    expectedSegments: Math.floor(memMediaSeconds / SEGMENT_SECONDS) * M * RENDITIONS_PER_STREAM,
    items: counts.items,
    status: counts.status,
  };
}

export function memorySection(y: MemoryResult): Section {
  const L = [
    `### One-hour dump, simulated: ${y.M} dumps × 3 renditions on one worker, origin clock ×${y.speed} (${fmt(y.realS, 0)} s real)`,
    '',
    '| Media time (s) | Worker live heap after GC (MB) | Worker RSS (MB) | Worker CPU s per media-hour per rendition since the previous row |',
    '| ---: | ---: | ---: | ---: |',
    ...y.series.map(
      (s, i) =>
        `| ${fmt(s.mediaS, 0)} | ${mb(s.live, 2)} | ${mb(s.rss)} | ${i === 0 ? '' : fmt(y.cpuPerMediaHourBySlice[i - 1], 2)} |`,
    ),
    '',
    `- Idle worker: live heap ${mb(y.idleLive, 2)} MB, RSS ${mb(y.idleRss)} MB. Dumps: ${JSON.stringify(y.status)}; ${y.segments} segments of ~${y.expectedSegments} expected; ${y.items} infoFile Items.`,
    `- Live-heap growth per dump from 1/12 of the hour to its end: ${mb(y.endMinusWarmPerDump, 3)} MB; least-squares slope: ${mb(y.growthPerHourPerDump, 3)} MB per dump per media-hour.`,
  ];
  if (Array.isArray(y.heapGrowth)) {
    L.push(
      `What the worker's heap gained between media ${fmt(y.growthMediaS[0], 0)} s and ${fmt(y.growthMediaS[1], 0)} s (two heap snapshots after GC, by constructor, self size):`,
      '',
      '| Constructor / kind | Objects added | Self size added (KB) |',
      '| --- | ---: | ---: |',
      ...y.heapGrowth.map(
        (g) => `| \`${g.name.slice(0, 60)}\` | ${g.count} | ${fmt(g.size / 1024, 0)} |`,
      ),
      '',
    );
  }
  L.push(
    `- At this clock speed a part lasts 1/${y.speed} s: the worker may not keep up in real time here (that is the capacity phase's question); what is measured is the state a one-hour dump accumulates.`,
    '',
  );
  return {
    lines: L,
    targets: [
      {
        name: 'Memory per dump flat: growth over a one-hour dump < 1 MB',
        measured: `${mb(y.endMinusWarmPerDump, 3)} MB per dump (live heap after GC; slope ${mb(y.growthPerHourPerDump, 3)} MB/h)`,
        met: y.endMinusWarmPerDump < 2 ** 20,
      },
    ],
  };
}
