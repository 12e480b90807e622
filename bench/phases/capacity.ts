// Phase `capacity`: one worker process, live renditions added step by step; its CPU and the lag per
// step, the largest step carried in real time (lag p99 ≤ one part), and with --profile where its
// CPU goes.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PART_SECONDS,
  RENDITIONS_PER_STREAM,
  SEGMENT_SECONDS,
  type BenchRun,
  type ClusterContext,
} from '../bench-run.ts';
import { summariseProfiles, type ProfileSummary } from '../lib/cpu-profile.ts';
import { startFfmpegPeers, stopFfmpegPeers, type Peer } from '../lib/ffmpeg-peers.ts';
import {
  addCompletion,
  completed,
  readSegmentItems,
  type BenchDump,
  type ItemCounts,
} from '../lib/dump-files.ts';
import { liveBytes, probeHeap } from '../../test/support/heap-probe.ts';
import { cpuSeconds, rssBytes, totalCpu } from '../../test/support/proc-stats.ts';
import { fmt, mb, ms, slope, summary, type Summary } from '../lib/stats.ts';
import type { Section, Target } from '../report.ts';

/** A worker at more than this share of a core is saturated: no further steps. */
const SATURATED = 0.97;
/**
 * ffmpeg peers recording the first streams of the phase through every step: its CPU per
 * rendition beside the busy worker's, in the same windows. One process per stream shares nothing
 * as renditions are added, so a sample of streams gives its figure; sixteen keep the clock-tick
 * rounding of /proc's CPU times to a few per cent of a 25 s window.
 */
const FFMPEG_PEER_STREAMS = 16;

export interface CapacityStep {
  step: number;
  renditions: number;
  from: number;
  to: number;
  startS: number;
  workerCores: number;
  originCores: number;
  rss: number | undefined;
  live: number | undefined;
  lag?: Summary;
  expected?: number;
  cpuPerMediaHour?: number;
  /** The ffmpeg peers' CPU s per media-hour per rendition in the same window. */
  ffmpegCpuPerMediaHour?: number;
  realTime?: boolean;
}

export interface CapacityResult {
  windows: CapacityStep[];
  carried: number;
  counts: ItemCounts;
  profile: ProfileSummary | { error: string } | undefined;
  perDumpLive: number | undefined;
  idleLive: number;
  holes: number;
  /** Renditions the ffmpeg peers recorded, and how they ended. */
  ffmpeg?: { renditions: number; exits: Record<string, number> };
}

export async function runCapacity(run: BenchRun, cluster: ClusterContext): Promise<CapacityResult> {
  const { origin } = cluster;
  const { options } = run;
  const steps = options.capacitySteps;
  const maxStreams = Math.ceil(steps[steps.length - 1]! / RENDITIONS_PER_STREAM);
  const names = Array.from({ length: maxStreams }, (_, i) => `c${i}`);
  await origin.call('forgetRequests', {});
  const profileDir = join(run.dir, 'cpu-profile');
  const nodeArgs = [
    ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...options.workerFlags,
  ];
  const [worker] = await run.startWorkers(1, maxStreams + 10, nodeArgs);
  await sleep(2_000);
  const idle = await probeHeap(worker!.pid, run.probeDir);
  run.log(
    `capacity: one worker (pid ${worker!.pid}), steps ${steps.join(', ')} renditions, ${options.stepSeconds} s each` +
      (options.profile ? ' (CPU profile on)' : '') +
      (options.workerFlags.length > 0 ? ` (flags ${options.workerFlags.join(' ')})` : ''),
  );
  const dumps: BenchDump[] = [];
  const windows: CapacityStep[] = [];
  let peers: Peer[] = [];
  let ffmpeg: CapacityResult['ffmpeg'];
  const sample = () => ({
    at: Date.now(),
    worker: cpuSeconds(worker!.pid) ?? 0,
    origin: cpuSeconds(origin.pid) ?? 0,
    ffmpeg: totalCpu(peers.map((p) => p.pid)),
    rss: rssBytes(worker!.pid),
  });
  try {
    for (const target of steps) {
      const newNames = names.slice(dumps.length, Math.ceil(target / RENDITIONS_PER_STREAM));
      // Each step's streams get their own spread over a segment, so every step is evenly phased.
      await origin.call('add', { app: 'app', streams: newNames, spreadMs: run.spreadMs() });
      if (options.ffmpeg && windows.length === 0) {
        peers = await startFfmpegPeers(run, origin, newNames.slice(0, FFMPEG_PEER_STREAMS));
      }
      const added = newNames.map((s) => ({ ...run.dumpSpec(s, 'cap'), step: windows.length }));
      const t0 = Date.now();
      const starts = await run.startDumps(added, 25);
      dumps.push(...added.filter((_, i) => starts[i]!.status === 200));
      const startS = (Date.now() - t0) / 1000;
      await sleep(options.settle * 1000);
      const from = sample();
      await sleep(options.stepSeconds * 1000);
      const to = sample();
      const heap = await probeHeap(worker!.pid, run.probeDir);
      const wallS = (to.at - from.at) / 1000;
      const peerMediaHours = (peers.length * RENDITIONS_PER_STREAM * wallS) / 3600;
      const win: CapacityStep = {
        step: windows.length,
        renditions: dumps.length * RENDITIONS_PER_STREAM,
        from: from.at,
        to: to.at,
        startS,
        workerCores: (to.worker - from.worker) / wallS,
        originCores: (to.origin - from.origin) / wallS,
        rss: to.rss,
        live: liveBytes(heap),
      };
      // A peer that died in the window took its CPU figure with it: no figure rather than a low one.
      if (peerMediaHours > 0 && peers.every((p) => p.exitCode === null))
        win.ffmpegCpuPerMediaHour = (to.ffmpeg - from.ffmpeg) / peerMediaHours;
      windows.push(win);
      run.log(
        `  ${win.renditions} renditions: worker ${fmt(win.workerCores * 100, 0)}% of a core, origin ${fmt(win.originCores * 100, 0)}%, rss ${mb(win.rss)} MB`,
      );
      if (win.workerCores > SATURATED) {
        run.log('  worker saturated: no further steps');
        break;
      }
    }
  } finally {
    if (peers.length > 0) {
      ffmpeg = {
        renditions: peers.length * RENDITIONS_PER_STREAM,
        exits: await stopFfmpegPeers(run, peers),
      };
    }
    await run.stopDumps(dumps, 50);
    await run.stopWorkers([worker!]);
  }
  const { items, counts } = await readSegmentItems(dumps);
  await addCompletion(origin, items);
  // Missing segments anywhere (a rendition's sequence numbers with a hole): not real time.
  const byRendition = new Map<string, number[]>();
  for (const it of items) {
    const key = `${it.stream}/${it.track}`;
    byRendition.set(key, [...(byRendition.get(key) ?? []), it.msn]);
  }
  let holes = 0;
  for (const msns of byRendition.values()) {
    msns.sort((a, b) => a - b);
    holes += msns[msns.length - 1]! - msns[0]! + 1 - new Set(msns).size;
  }
  const known = completed(items);
  for (const win of windows) {
    // Only dumps already running when the window opened, and never a dump's start segment.
    const lags = known
      .filter(
        (it) =>
          it.step <= win.step &&
          it.completedMs >= Math.max(win.from, it.requestedAt) &&
          it.completedMs <= win.to,
      )
      .map((it) => it.lagMs);
    win.lag = summary(lags);
    win.expected = Math.round((win.renditions * (win.to - win.from)) / (SEGMENT_SECONDS * 1000));
    const mediaHours = (win.renditions * (win.to - win.from)) / 1000 / 3600;
    win.cpuPerMediaHour = (win.workerCores * (win.to - win.from)) / 1000 / mediaHours;
    win.realTime =
      win.lag.p99 !== undefined &&
      win.lag.p99 <= PART_SECONDS * 1000 &&
      win.workerCores < SATURATED &&
      holes === 0;
  }
  const carried = windows.filter((w) => w.realTime).reduce((m, w) => Math.max(m, w.renditions), 0);
  // Memory per dump: least squares of live heap after GC over the number of dumps, idle included.
  const idleLive = liveBytes(idle) ?? 0;
  const points: [number, number][] = [
    [0, idleLive],
    ...windows.flatMap((w): [number, number][] =>
      w.live === undefined ? [] : [[w.renditions / RENDITIONS_PER_STREAM, w.live]],
    ),
  ];
  const profile = options.profile
    ? await summariseProfiles(profileDir).catch((e: unknown) => ({ error: String(e) }))
    : undefined;
  return {
    windows,
    carried,
    counts,
    profile,
    perDumpLive: slope(points),
    idleLive,
    holes,
    ...(ffmpeg && { ffmpeg }),
  };
}

export function capacitySection(c: CapacityResult): Section {
  const L = [
    '### Capacity of one worker process (one core): renditions added step by step',
    '',
    '| Live renditions | Worker CPU (cores) | CPU s per media-hour per rendition | ffmpeg, same window: CPU s per media-hour per rendition (ratio) | Lag p50 / p99 / max ms | Segments seen / expected | Worker RSS MB | Live heap after GC MB | Origin CPU (cores) | Real time (p99 ≤ 1 s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const w of c.windows) {
    L.push(
      `| ${w.renditions} | ${fmt(w.workerCores, 2)} | ${fmt(w.cpuPerMediaHour, 2)} | ${ffmpegCell(w)} | ${ms(w.lag?.p50)} / ${ms(w.lag?.p99)} / ${ms(w.lag?.max)} | ${w.lag?.n} / ${w.expected} | ${mb(w.rss)} | ${mb(w.live)} | ${fmt(w.originCores, 2)} | ${w.realTime ? 'yes' : 'no'} |`,
    );
  }
  const top = c.windows[c.windows.length - 1];
  const perCoreEstimate = top ? top.renditions / top.workerCores : undefined;
  L.push(
    '',
    `- Memory per dump (3 renditions), least squares of the live heap after GC over the number of dumps (idle worker ${mb(c.idleLive)} MB): ${mb(c.perDumpLive, 3)} MB.`,
    '',
    `- Largest step carried in real time: ${c.carried} renditions. At the largest step the worker used ${fmt(top?.workerCores, 2)} of a core: linear extrapolation ≈ ${fmt(perCoreEstimate, 0)} renditions per core (CPU-bound estimate; lag not measured there).`,
    `- infoFiles: ${JSON.stringify(c.counts.status)}; segments missing from any rendition's sequence: ${c.holes}. "Segments seen / expected": expected is renditions × window / 4 s, approximate (a window holds 3 or 4 completions per rendition depending on phase).`,
    c.ffmpeg
      ? `- ffmpeg: one \`-c copy\` process per stream on ${c.ffmpeg.renditions} of the worker's renditions (the phase's first streams), running through every step; exits ${JSON.stringify(c.ffmpeg.exits)}.`
      : '- ffmpeg: no peers in this run (--no-ffmpeg).',
    '',
  );
  if (c.profile && !('error' in c.profile)) {
    L.push(
      `#### Where the capacity worker's CPU goes (node --cpu-prof, ${fmt(c.profile.busyMs / 1000, 1)} s busy)`,
      '',
      '| Package / category | Self ms | Share |',
      '| --- | ---: | ---: |',
      ...c.profile.packages.map(
        (p) => `| ${p.name} | ${fmt(p.ms, 0)} | ${fmt(p.share * 100, 1)} % |`,
      ),
      '',
      '| Function (self time) | Self ms | Share |',
      '| --- | ---: | ---: |',
      ...c.profile.functions.map(
        (f) => `| \`${f.name}\` | ${fmt(f.ms, 0)} | ${fmt(f.share * 100, 1)} % |`,
      ),
      '',
    );
  }
  const steps = c.windows
    .map((w) => `${w.renditions}→p99 ${ms(w.lag?.p99)} ms @ ${fmt(w.workerCores * 100, 0)}% core`)
    .join(', ');
  const targets: Target[] = [
    {
      name: 'One worker process carries ≥ 1 000 live renditions in real time (lag p99 ≤ 1 part)',
      measured: `${c.carried} carried (steps: ${steps})`,
      met: c.carried >= 1000,
    },
  ];
  const busiest = c.windows.filter((w) => w.realTime).at(-1);
  if (busiest?.cpuPerMediaHour !== undefined && busiest.ffmpegCpuPerMediaHour !== undefined) {
    const ratio = busiest.cpuPerMediaHour / busiest.ffmpegCpuPerMediaHour;
    targets.push({
      name: "CPU per dumped media-hour ≤ 0.8× ffmpeg's, one busy worker (the largest step carried), side by side",
      measured: `${busiest.renditions} renditions: ${fmt(busiest.cpuPerMediaHour, 2)} vs ${fmt(busiest.ffmpegCpuPerMediaHour, 2)} CPU s (×${fmt(ratio, 2)}, target ≤ ×0.8)`,
      met: ratio <= 0.8,
    });
  }
  return { lines: L, targets };
}

function ffmpegCell(w: CapacityStep): string {
  if (w.ffmpegCpuPerMediaHour === undefined) return 'n/a';
  const ratio =
    w.cpuPerMediaHour === undefined ? undefined : w.cpuPerMediaHour / w.ffmpegCpuPerMediaHour;
  return `${fmt(w.ffmpegCpuPerMediaHour, 2)} (×${fmt(ratio, 2)})`;
}
