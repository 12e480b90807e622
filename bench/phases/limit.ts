// Phase `limit`: the simplest loop that fetches the same segments over loopback and writes them to
// disk (one GET at a time, piped to a file); hlsdump's bytes per CPU second as a fraction of it.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEGMENT_SECONDS, type BenchRun, type ClusterContext } from '../bench-run.ts';
import { cpuSeconds } from '../../test/support/proc-stats.ts';
import type { SimpleCopyJob, SimpleCopyReport } from '../lib/simple-copy.ts';
import { fmt, mb } from '../lib/stats.ts';
import type { Section, Target } from '../report.ts';
import type { CapacityResult } from './capacity.ts';
import type { SideBySideResult } from './side-by-side.ts';

const SIMPLE_COPY = fileURLToPath(new URL('../lib/simple-copy.ts', import.meta.url));

export interface LimitResult extends SimpleCopyReport {
  bytesPerCpuS: number;
  bytesPerWallS: number;
  originCpu: number;
  avgSegmentBytes: number;
}

export async function runLimit(run: BenchRun, cluster: ClusterContext): Promise<LimitResult> {
  const { origin, mainStreams } = cluster;
  const urls = await origin.call('segmentUrls', { streams: mainStreams, perRendition: 6 });
  const seconds = run.options.limitSeconds;
  run.log(`limit: simplest fetch+write loop over ${urls.length} segment URLs for ${seconds} s`);
  const child = fork(SIMPLE_COPY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const originCpu0 = cpuSeconds(origin.pid) ?? 0;
  const done = once(child, 'message') as Promise<[SimpleCopyReport]>;
  const dir = join(run.dir, 'limit');
  child.send({ urls, seconds, dir } satisfies SimpleCopyJob);
  const [report] = await done;
  await once(child, 'exit').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  return {
    ...report,
    bytesPerCpuS: report.bytes / report.cpuS,
    bytesPerWallS: report.bytes / report.wallS,
    originCpu: (cpuSeconds(origin.pid) ?? 0) - originCpu0,
    avgSegmentBytes: report.bytes / report.files,
  };
}

export function limitSection(
  l: LimitResult,
  main: SideBySideResult | undefined,
  capacity: CapacityResult | undefined,
): Section {
  const kbitS = (l.avgSegmentBytes * 8) / SEGMENT_SECONDS / 1000;
  const L = [
    '### Limit: the simplest fetch-and-write loop over the same bytes',
    '',
    '| Loop | Files | MB | CPU s | MB per CPU s | MB per wall s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| one GET at a time (node:http, keep-alive) piped to a file | ${l.files} | ${mb(l.bytes)} | ${fmt(l.cpuS, 2)} | ${mb(l.bytesPerCpuS, 2)} | ${mb(l.bytesPerWallS, 2)} |`,
  ];
  const targets: Target[] = [];
  if (main) {
    L.push(
      `| hlsdump workers in the side-by-side run (segment bytes) | | ${mb(main.segmentBytes)} | ${fmt(main.workerCpu, 2)} | ${mb(main.bytesPerCpuS, 2)} | (real time) |`,
      '',
      `- hlsdump's throughput per CPU second is ${fmt((main.bytesPerCpuS / l.bytesPerCpuS) * 100, 1)} % of the simplest loop's: it spends ×${fmt(l.bytesPerCpuS / main.bytesPerCpuS, 2)} the loop's CPU per byte dumped (segments of ${fmt(l.avgSegmentBytes / 1024, 0)} KiB on average; the origin spent ${fmt(l.originCpu, 1)} CPU s serving the loop). The loop's ${mb(l.bytesPerCpuS, 1)} MB per CPU second at these streams' ${fmt(kbitS, 0)} kbit/s average is the ceiling of ~${fmt(l.bytesPerCpuS / (l.avgSegmentBytes / SEGMENT_SECONDS), 0)} renditions per core for any design that fetches whole segments.`,
    );
    const times = l.bytesPerCpuS / main.bytesPerCpuS;
    targets.push({
      name: "CPU per byte dumped ≤ 2× the simplest loop's (its MB per CPU s ≥ 50 % of the loop's)",
      measured: `×${fmt(times, 2)} (${mb(main.bytesPerCpuS, 2)} vs ${mb(l.bytesPerCpuS, 2)} MB per CPU s, at these streams' ${fmt(kbitS, 0)} kbit/s)`,
      met: times <= 2,
    });
  }
  // The capacity phase counts no bytes; its streams serve the same fixture, so its CPU per
  // media-hour per rendition meets what the loop spends on the bytes a rendition carries in one.
  const largest = capacity?.windows.find((w) => w.realTime && w.renditions === capacity.carried);
  if (largest?.cpuPerMediaHour !== undefined) {
    const loopPerMediaHour = (3600 * l.avgSegmentBytes) / SEGMENT_SECONDS / l.bytesPerCpuS;
    L.push(
      `- At ${largest.renditions} renditions in one worker (the capacity phase's largest step carried in real time) hlsdump spends ${fmt(largest.cpuPerMediaHour, 2)} CPU s per media-hour per rendition; the loop spends ${fmt(loopPerMediaHour, 2)} on a rendition's bytes: ×${fmt(largest.cpuPerMediaHour / loopPerMediaHour, 2)} the loop's CPU per byte.`,
    );
  }
  L.push('');
  return { lines: L, targets };
}
