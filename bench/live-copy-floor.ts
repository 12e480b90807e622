// What following a live stream costs before anything hlsdump adds: processes side by side on the
// same live streams of the test origin (a process of its own), in one window:
//   - ffmpeg -c copy, one per stream (what operators record with today);
//   - the simplest live copy in Node (node:http, a blocking reload per segment, each new segment
//     piped to a file of its own);
//   - the blocking reloads alone, layer by layer: node:http, undici's request(), the project's
//     OriginClient, the project's RenditionLoader;
//   - an idle Node process, whose CPU is taken off the per-reload figures.
// The Node processes (bench/lib/live-follower.ts) follow every rendition each, with the worker's
// shipped Node flags; CPU is utime + stime from /proc over the window.
//
//   npm run bench:floor [-- --streams 4 --seconds 120 --warmup 10 --copies 1 --no-ffmpeg --results FILE]
//
// Appends a section to bench/results/live-copy-floor.md (or --results) and prints it.
import console from 'node:console';
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineSummary } from '../test/support/machine.ts';
import { cpuSeconds, totalCpu } from '../test/support/proc-stats.ts';
import { startFfmpegPeers, stopFfmpegPeers } from './lib/ffmpeg-peers.ts';
import { FOLLOW_MODES, type FollowMode } from './lib/follow-modes.ts';
import { renditionUrls, startFollower, type Follower } from './lib/follower-host.ts';
import { startOriginProcess } from './lib/origin-host.ts';
import { commitOf, workerBuildOf } from './lib/worker-build.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '120' },
    warmup: { type: 'string', default: '10' },
    copies: { type: 'string', default: '1' },
    'no-ffmpeg': { type: 'boolean', default: false },
    results: { type: 'string' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const streamCount = positive('streams', values.streams);
const seconds = positive('seconds', values.seconds);
const warmup = positive('warmup', values.warmup);
const copies = positive('copies', values.copies);
const resultsFile = values.results ?? join(here, 'results', 'live-copy-floor.md');

const build = await workerBuildOf(resolve(here, '..'));
const outDir = await mkdtemp(join(os.tmpdir(), 'hlsdump-live-copy-floor-'));
const origin = await startOriginProcess();
const followers: Follower[] = [];
const ffmpegRun = { dir: outDir, ffmpeg: [] as ChildProcess[] };
try {
  const names = Array.from({ length: streamCount }, (_, i) => `floor${i}`);
  const added = await origin.call('add', { app: 'app', streams: names, spreadMs: 4_000 });
  const urls = (await Promise.all(added.map((s) => renditionUrls(s.masterUrl)))).flat();
  for (let copy = 0; copy < copies; copy++) {
    for (const mode of FOLLOW_MODES) followers.push(await startFollower(mode, build.nodeFlags));
  }
  for (const [i, follower] of followers.entries()) {
    await follower.follow(urls, join(outDir, `copy-${i}`));
  }
  const peers = values['no-ffmpeg'] ? [] : await startFfmpegPeers(ffmpegRun, origin, names);
  await sleep(warmup * 1000);
  const read = async () => ({
    ffmpeg: totalCpu(peers.map((p) => p.pid)),
    followers: await Promise.all(
      followers.map(async (f) => ({ cpu: cpuSeconds(f.child.pid) ?? NaN, ...(await f.count()) })),
    ),
  });
  const before = await read();
  await sleep(seconds * 1000);
  const after = await read();
  const ffmpegExits = peers.length > 0 ? await stopFfmpegPeers(ffmpegRun, peers) : {};

  const byMode = new Map<FollowMode, { cpu: number; reloads: number; failures: number }>();
  followers.forEach((f, i) => {
    const sum = byMode.get(f.mode) ?? { cpu: 0, reloads: 0, failures: 0 };
    sum.cpu += after.followers[i]!.cpu - before.followers[i]!.cpu;
    sum.reloads += after.followers[i]!.reloads - before.followers[i]!.reloads;
    sum.failures += after.followers[i]!.failures - before.followers[i]!.failures;
    byMode.set(f.mode, sum);
  });
  const idleCpu = byMode.get('idle')!.cpu;
  const perMediaHour = (cpu: number, processes: number) =>
    cpu / ((urls.length * processes * seconds) / 3600);
  const ffmpegCpu = after.ffmpeg - before.ffmpeg;
  const ffmpegPerHour = perMediaHour(ffmpegCpu, 1);
  const versusFfmpeg = (x: number) =>
    peers.length > 0 ? `×${(x / ffmpegPerHour).toFixed(2)}` : 'n/a';
  const rows = FOLLOW_MODES.map((mode) => {
    const { cpu, reloads, failures } = byMode.get(mode)!;
    const perReload = reloads > 0 ? `${(((cpu - idleCpu) / reloads) * 1e6).toFixed(0)}` : '';
    const hourly = perMediaHour(cpu, copies);
    return `| ${mode} | ${cpu.toFixed(2)} | ${reloads} | ${failures} | ${perReload} | ${hourly.toFixed(2)} | ${versusFfmpeg(hourly)} |`;
  });
  if (peers.length > 0) {
    rows.unshift(
      `| ffmpeg -c copy (${peers.length} processes) | ${ffmpegCpu.toFixed(2)} | | | | ${ffmpegPerHour.toFixed(2)} | ×1.00 |`,
    );
  }
  const section = [
    `## ${new Date().toISOString()}`,
    '',
    `Machine: ${machineSummary()}; load average at the end ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}.`,
    `Build ${commitOf(resolve(here, '..'))}, the followers' Node flags (the worker's) ` +
      `${build.nodeFlags.join(' ') || '(none)'}. ${streamCount} streams, ${urls.length} ` +
      `renditions followed by each Node process, ${copies} process(es) per mode, ${seconds} s ` +
      `window after ${warmup} s. ffmpeg exits: ${JSON.stringify(ffmpegExits)}.`,
    '',
    '| Process | CPU s | reloads | failed | CPU µs per reload, less idle | CPU s per media-hour per rendition | vs ffmpeg |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
  await mkdir(dirname(resultsFile), { recursive: true });
  await appendFile(resultsFile, section + '\n');
  console.log(section);
  console.log(`appended to ${resultsFile}`);
} finally {
  for (const f of followers) f.stop();
  for (const p of ffmpegRun.ffmpeg) if (p.exitCode === null) p.kill('SIGKILL');
  await origin.close();
  await rm(outDir, { recursive: true, force: true });
}
process.exit(0);
