// hlsdump's benchmark suite: one run, this machine, every figure side by side.
//
//   npm run bench                       # defaults: a few minutes on 2 cores
//   npm run bench -- --preset full      # the long run (see bench/README.md)
//   node bench/run.mjs --streams 8 --workers 2 --seconds 60 --skip info,memory
//
// Starts its own Redis, the test origin (its own process), the gateway and W workers (real
// processes), drives OME's REST API, records ffmpeg peers on the same streams, and appends a section
// to bench/results/hlsdump-bench.md. Every phase is bounded in time; the run stops by itself.
import { execFile, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startTestRedis } from '../test/support/redis-server.ts';
import { apiClient, inFlight, startGateway, startWorker, terminate } from './lib/cluster.mjs';
import { summariseProfiles } from './lib/cpu-profile.mjs';
import { addCompletion, fileBytes, readSegmentItems } from './lib/dump-files.mjs';
import { breakdown } from './lib/log-breakdown.mjs';
import { startOriginProcess } from './lib/origin-host.mjs';
import {
  cpuSeconds,
  heapSnapshot,
  probeHeap,
  rssBytes,
  startSampler,
  totalCpu,
} from './lib/proc-stats.mjs';
import { diffSnapshots } from './lib/heap-snapshot.mjs';
import { fmt, mb, ms, slope, summary } from './lib/stats.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(BENCH_DIR, 'results', 'hlsdump-bench.md');
const RENDITIONS_PER_STREAM = 3; // the test origin's fixtures: video_0, video_1, audio_0
const TOKEN = 'bench:bench';

const PRESETS = {
  default: {
    streams: 8,
    workers: 2,
    seconds: 45,
    warmup: 10,
    speed: 1,
    'api-starts': 100,
    'capacity-steps': '30,90,150,210',
    'step-seconds': 15,
    settle: 6,
    'mem-streams': 2,
    'mem-speed': 60,
    'mem-media-seconds': 3600,
    'limit-seconds': 10,
    'info-items': 100_000,
    'info-naive': 2_000,
  },
  full: {
    streams: 20,
    workers: 2,
    seconds: 300,
    warmup: 20,
    speed: 1,
    'api-starts': 100,
    'capacity-steps': '60,120,180,240,300,360,450',
    'step-seconds': 40,
    settle: 10,
    'mem-streams': 4,
    'mem-speed': 20,
    'mem-media-seconds': 3600,
    'limit-seconds': 20,
    'info-items': 100_000,
    'info-naive': 10_000,
  },
};

const USAGE = `usage: node bench/run.mjs [--preset default|full] [--streams K] [--workers W] [--seconds T]
  [--speed S] [--warmup S] [--api-starts N] [--capacity-steps R1,R2,...] [--step-seconds S]
  [--settle S] [--mem-streams M] [--mem-speed X] [--mem-media-seconds S] [--limit-seconds S]
  [--info-items N] [--info-naive N] [--skip info,main,api,capacity,memory,limit] [--no-ffmpeg] [--aligned]
  [--heap-snapshots]
  [--profile] [--keep] [--results FILE]`;

const options = parseOptions();
const started = new Date();
const runDir = await mkdtemp(join(os.tmpdir(), 'hlsdump-bench-'));
const outputRoot = join(runDir, 'out');
const probeDir = join(runDir, 'probe');
await mkdir(outputRoot, { recursive: true });
await mkdir(probeDir, { recursive: true });
const mainLog = createWriteStream(join(runDir, 'bench.log'));
const log = (...parts) => {
  const line = `[${new Date().toISOString().slice(11, 23)}] ${parts.join(' ')}`;
  console.log(line);
  mainLog.write(line + '\n');
};
const results = { machine: machine(), options, started: started.toISOString(), notes: [] };
// Every process this run starts, so that a failure still cleans up exactly those.
const children = { redis: undefined, gateway: undefined, workers: [], ffmpeg: [], origins: [] };

// A hard bound on the whole run: the bench stops by itself whatever happens.
const hardLimitMs = options.hardLimitS * 1000;
const hardTimer = setTimeout(() => {
  log(`hard time limit of ${options.hardLimitS} s reached: cleaning up`);
  void cleanup().finally(() => process.exit(3));
}, hardLimitMs);
hardTimer.unref();

try {
  log(`run dir ${runDir}; options ${JSON.stringify(options)}`);
  if (!options.skip.has('info')) results.info = await runInfoFileBench();
  const needCluster = ['main', 'api', 'capacity', 'memory', 'limit'].some(
    (p) => !options.skip.has(p),
  );
  if (needCluster) await runClusterPhases();
  const section = buildReport(results);
  await mkdir(dirname(options.results), { recursive: true });
  await appendFile(options.results, section);
  console.log(section);
  log(`appended to ${options.results}`);
} catch (error) {
  log(`bench failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(hardTimer);
  mainLog.end();
  if (!options.keep && process.exitCode !== 1) await rm(runDir, { recursive: true, force: true });
  else console.log(`kept ${runDir}`);
}

// ---------------------------------------------------------------------------------------------
// Phases

/** The engine issue's infoFile append benchmark, run as it is (it also appends its own file). */
async function runInfoFileBench() {
  log(`infoFile append benchmark: ${options.infoItems} items, naive ${options.infoNaive}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(BENCH_DIR, 'info-file-append.mjs'),
      '--items',
      String(options.infoItems),
      '--naive',
      String(options.infoNaive),
    ],
    { maxBuffer: 16 * 2 ** 20, timeout: 600_000 },
  );
  const report = stdout.split('\nAppended to')[0].trim();
  const m = /Item (\d+) vs Item (\d+): median ×([\d.]+), mean ×([\d.]+)/.exec(report);
  const control =
    /interleaved control at Item \d+ \(same moment, same load\): median ×([\d.]+)/.exec(report);
  return {
    report,
    far: m ? Number(m[1]) : undefined,
    near: m ? Number(m[2]) : undefined,
    medianRatio: m ? Number(m[3]) : undefined,
    meanRatio: m ? Number(m[4]) : undefined,
    controlRatio: control ? Number(control[1]) : undefined,
  };
}

async function runClusterPhases() {
  const originLog = createWriteStream(join(runDir, 'origin.log'));
  const origin = await startOriginProcess({ speed: options.speed, logFile: originLog });
  children.origins.push(origin);
  const memOrigin = options.skip.has('memory')
    ? undefined
    : await startOriginProcess({ speed: options.memSpeed, logFile: originLog });
  if (memOrigin) children.origins.push(memOrigin);
  log(
    `origin ${origin.url} (pid ${origin.pid}, speed ${options.speed})` +
      (memOrigin ? `; memory origin ${memOrigin.url} (speed ${options.memSpeed})` : ''),
  );

  const redis = await startTestRedis();
  children.redis = redis;
  const queueName = `bench-${process.pid}`;
  const prefix = `hlsdump-bench-${process.pid}`;
  const gateway = await startGatewayFor(redis.url, origin, memOrigin, queueName, prefix);
  children.gateway = gateway.child;
  const api = apiClient(gateway.url, TOKEN);
  const ctx = { origin, memOrigin, redis, queueName, prefix, api, gateway };
  try {
    const names = Array.from({ length: options.streams }, (_, i) => `b${i}`);
    await origin.call('add', { app: 'app', streams: names, options: {}, spreadMs: spreadMs() });
    ctx.mainStreams = names;
    if (!options.skip.has('main') || !options.skip.has('api')) {
      const workers = await startWorkers(
        ctx,
        options.workers,
        'w',
        options.apiStarts + options.streams,
      );
      try {
        if (!options.skip.has('main')) results.main = await runMain(ctx, workers);
        if (!options.skip.has('api')) results.api = await runApi(ctx, workers);
      } finally {
        await stopWorkers(workers);
      }
    }
    if (!options.skip.has('limit')) results.limit = await runLimit(ctx);
    if (!options.skip.has('capacity')) results.capacity = await runCapacity(ctx);
    if (!options.skip.has('memory')) results.memory = await runMemory(ctx);
  } finally {
    await api.close();
  }
}

async function startGatewayFor(redisUrl, origin, memOrigin, queueName, prefix) {
  // The memory phase's streams live on a faster-clocked origin under app "mem".
  const apps = { app: origin.url, ...(memOrigin ? { mem: memOrigin.url } : {}) };
  return startGateway({ redisUrl, apps, outputRoot, runDir, queueName, prefix, token: TOKEN });
}

/** Streams' phases spread over one segment (4 s of media), unless --aligned asks for the worst case. */
function spreadMs() {
  return options.aligned ? 0 : 4000 / options.speed;
}

async function startWorkers(ctx, count, tag, concurrency, nodeOptions) {
  const workers = [];
  for (let i = 0; i < count; i++) {
    const child = await startWorker({
      redisUrl: ctx.redis.url,
      runDir,
      queueName: ctx.queueName,
      prefix: ctx.prefix,
      workerId: `${tag}${i}`,
      concurrency,
      nodeOptions,
      probeDir,
    });
    workers.push(child);
    children.workers.push(child);
  }
  return workers;
}

async function stopWorkers(workers) {
  await Promise.all(workers.map((w) => terminate(w)));
  children.workers = children.workers.filter((w) => !workers.includes(w));
}

function dumpSpec(stream, id, app = 'app') {
  const outputPath = join(outputRoot, app, stream, id);
  return { stream, id, app, outputPath, infoFile: join(outputPath, 'info.xml') };
}

async function startDumps(api, dumps, limit) {
  const replies = await inFlight(dumps, limit, (d) => {
    d.requestedAt = Date.now();
    return api.start(d.stream, d, d.app);
  });
  const failed = replies.filter((r) => r.status !== 200);
  if (failed.length > 0) {
    log(
      `${failed.length}/${dumps.length} starts failed, first: ${failed[0].status} ${failed[0].text}`,
    );
    results.notes.push(
      `${failed.length} of ${dumps.length} starts failed (first: ${failed[0].status} ${failed[0].text.slice(0, 200)})`,
    );
  }
  return replies;
}

async function stopDumps(api, dumps, limit) {
  const replies = await inFlight(dumps, limit, (d) => {
    d.stopRequestedAt = Date.now();
    return api.stop(d.stream, d.id, d.app);
  });
  const failed = replies.filter((r) => r.status !== 200);
  if (failed.length > 0) {
    log(
      `${failed.length}/${dumps.length} stops failed, first: ${failed[0].status} ${failed[0].text}`,
    );
    results.notes.push(
      `${failed.length} of ${dumps.length} stops failed (first: ${failed[0].status} ${failed[0].text.slice(0, 200)})`,
    );
  }
  return replies;
}

/** K streams, hlsdump on W workers and one ffmpeg per stream, side by side for T seconds. */
async function runMain(ctx, workers) {
  const { origin, api } = ctx;
  const K = options.streams;
  const dumps = ctx.mainStreams.map((s) => dumpSpec(s, 'main'));
  const workerPids = workers.map((w) => w.pid);
  await sleep(2_000);
  const baseHeap = await probeAll(workerPids);
  const baseRss = workerPids.map((pid) => rssBytes(pid));
  const sampler = startSampler(() => ({
    workers: workerPids,
    ffmpeg: children.ffmpeg.map((f) => f.pid),
    origin: [origin.pid],
    gateway: [children.gateway.pid],
    redis: [children.redis.process?.pid].filter(Boolean),
  }));
  log(
    `main: ${K} streams × ${RENDITIONS_PER_STREAM} renditions, ${workers.length} workers, ${options.seconds} s (+${options.warmup} s warm-up), ffmpeg peers: ${options.ffmpeg}`,
  );
  const peers = options.ffmpeg ? await startFfmpegPeers(ctx, ctx.mainStreams) : [];
  const starts = await startDumps(api, dumps, K);
  const tStarted = Date.now();
  await sleep(options.warmup * 1000);
  const heapA = await probeAll(workerPids);
  const a = snapshot(workerPids, peers, origin);
  await sleep(options.seconds * 1000);
  const b = snapshot(workerPids, peers, origin);
  const heapB = await probeAll(workerPids);
  const stops = await stopDumps(api, dumps, K);
  const tStopped = Date.now();
  const peerResults = await stopFfmpegPeers(peers);
  sampler.stop();

  const windowS = (b.at - a.at) / 1000;
  const renditions = K * RENDITIONS_PER_STREAM;
  const mediaHours = (renditions * windowS * options.speed) / 3600;
  const { items, counts } = await readSegmentItems(dumps);
  await addCompletion(origin, items);
  const inWindow = items.filter(
    (it) => it.completedMs >= Math.max(a.at, it.requestedAt) && it.completedMs <= b.at,
  );
  const lag = summary(inWindow.map((it) => it.lagMs));
  const segmentBytes = await fileBytes(
    items.filter((it) => it.itemMs >= a.at && it.itemMs <= b.at),
  );

  // hlsdump's own fetches (User-Agent hlsdump/...) and ffmpeg's (Lavf/...), at the origin.
  const fetchLag = await requestLag(origin, ctx.mainStreams, 'hlsdump', a.at, b.at);
  const ffmpegLag = await requestLag(origin, ctx.mainStreams, 'Lavf', a.at, b.at);
  const requestCounts = await origin.call('requestCounts', {
    streams: ctx.mainStreams,
    sinceMs: a.at,
    untilMs: b.at,
  });
  const workerCpu = b.workers - a.workers;
  const ffmpegCpu = b.ffmpeg - a.ffmpeg;

  // Memory: live heap after a full GC (heapUsed + external), per worker, before the dumps, after the
  // warm-up and at the end; RSS beside it.
  const live = (h) => (h ? h.heapUsed + h.external : 0);
  const sumLive = (hs) => hs.reduce((sum, h) => sum + live(h), 0);
  const ffmpegRss = b.ffmpegRss.filter((x) => x !== undefined);
  const memory = {
    baseRss,
    rssAtB: b.workerRss,
    baseLive: sumLive(baseHeap),
    liveA: sumLive(heapA),
    liveB: sumLive(heapB),
    perDumpLive: (sumLive(heapB) - sumLive(baseHeap)) / K,
    perDumpRss: b.workerRss.reduce((sum, x, i) => sum + ((x ?? 0) - (baseRss[i] ?? 0)), 0) / K,
    // Growth of the live heap over the measured window, per dump, scaled to one hour.
    growthPerHourPerDump: ((sumLive(heapB) - sumLive(heapA)) / K) * (3600 / ((b.at - a.at) / 1000)),
    gcMs: [...heapA, ...heapB].map((h) => h?.gcMs ?? 0),
  };
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
      lastCpu(sampler, 'gateway', a.at, b.at) + lastCpu(sampler, 'redis', a.at, b.at),
    lag,
    fetchLag: summary(fetchLag),
    segments: inWindow.length,
    expectedSegments: Math.round((renditions * windowS * options.speed) / 4),
    counts,
    segmentBytes,
    bytesPerCpuS: segmentBytes / workerCpu,
    memory,
    requestCounts,
    starts: summary(starts.map((r) => r.ms)),
    stops: summary(stops.map((r) => r.ms)),
    runS: (tStopped - tStarted) / 1000,
    ffmpeg: options.ffmpeg
      ? {
          processes: peers.length,
          cpu: ffmpegCpu,
          cpuPerMediaHour: ffmpegCpu / mediaHours,
          lag: summary(ffmpegLag),
          rssPerProcess: summary(ffmpegRss),
          exits: peerResults,
        }
      : undefined,
  };
}

async function probeAll(pids) {
  return Promise.all(pids.map((pid) => probeHeap(pid, probeDir)));
}

function lastCpu(sampler, group, from, to) {
  const rows = sampler.samples.filter((s) => s.at >= from && s.at <= to);
  if (rows.length < 2) return 0;
  const sum = (row) => (row.groups[group] ?? []).reduce((s, p) => s + (p.cpu ?? 0), 0);
  return sum(rows[rows.length - 1]) - sum(rows[0]);
}

function snapshot(workerPids, peers, origin) {
  return {
    at: Date.now(),
    workers: totalCpu(workerPids),
    workerRss: workerPids.map((pid) => rssBytes(pid)),
    ffmpeg: totalCpu(peers.map((p) => p.pid)),
    ffmpegRss: peers.map((p) => rssBytes(p.pid)),
    origin: cpuSeconds(origin.pid) ?? 0,
  };
}

/** Lag from each segment's completion at the origin to a client's request for it (first request). */
async function requestLag(origin, streams, userAgent, from, to) {
  const lags = [];
  for (const stream of streams) {
    const requests = await origin.call('requests', { stream, userAgent, sinceMs: from - 60_000 });
    const first = new Map();
    for (const [track, msn, wallMs] of requests) {
      const key = `${track}/${msn}`;
      if (!first.has(key)) first.set(key, { track, msn, wallMs });
    }
    const list = [...first.values()];
    const times = await origin.call('completedAt', {
      queries: list.map((r) => [stream, r.track, r.msn]),
    });
    list.forEach((r, i) => {
      if (times[i] >= from && times[i] <= to) lags.push(r.wallMs - times[i]);
    });
  }
  return lags;
}

/** One ffmpeg per stream, every rendition copied (-map 0 -c copy) into MPEG-TS, as operators do. */
async function startFfmpegPeers(ctx, streams) {
  const dir = join(runDir, 'ffmpeg');
  await mkdir(dir, { recursive: true });
  return streams.map((stream) => {
    const url = `${ctx.origin.url}/app/${stream}/llhls.m3u8`;
    const child = spawn(
      '/usr/bin/ffmpeg',
      [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        url,
        '-map',
        '0',
        '-c',
        'copy',
        '-f',
        'mpegts',
        '-y',
        join(dir, `${stream}.ts`),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c) => (stderr = (stderr + c.toString()).slice(-2000)));
    children.ffmpeg.push(child);
    return Object.assign(child, { stream, stderrTail: () => stderr });
  });
}

async function stopFfmpegPeers(peers) {
  const outcomes = await Promise.all(
    peers.map(async (p) => {
      if (p.exitCode !== null)
        return `exited early (${p.exitCode}): ${p.stderrTail().trim().slice(-200)}`;
      const exited = once(p, 'exit');
      p.kill('SIGINT');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return signal ?? String(code);
    }),
  );
  children.ffmpeg = children.ffmpeg.filter((c) => !peers.includes(c));
  const tally = {};
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
  return tally;
}

/** N starts in flight at once, then N stops at once; the origin's own answer time beside them. */
async function runApi(ctx, workers) {
  const { api, origin } = ctx;
  const N = options.apiStarts;
  const dumps = Array.from({ length: N }, (_, i) =>
    dumpSpec(ctx.mainStreams[i % ctx.mainStreams.length], `api${i}`),
  );
  log(`api: ${N} starts in flight, then ${N} stops in flight`);
  // The origin's own time for what a start waits on: the gateway's probe of the master, the worker's
  // master and then its chunklists (two round trips in sequence), all under the same concurrency.
  const originMs = await originAnswerTimes(origin, ctx.mainStreams, N);
  const workerCpu0 = totalCpu(workers.map((w) => w.pid));
  const t0 = Date.now();
  const starts = await startDumps(api, dumps, N);
  const startWallS = (Date.now() - t0) / 1000;
  await sleep(5_000);
  const t1 = Date.now();
  const stops = await stopDumps(api, dumps, N);
  const stopWallS = (Date.now() - t1) / 1000;
  const workerCpu = totalCpu(workers.map((w) => w.pid)) - workerCpu0;
  const startMs = starts.filter((r) => r.status === 200).map((r) => r.ms);
  const stopMs = stops.filter((r) => r.status === 200).map((r) => r.ms);
  dumps.forEach((d, i) => Object.assign(d, { startMs: starts[i].ms, stopMs: stops[i].ms }));
  await sleep(500); // let the services' log lines reach their files
  const phases = await breakdown(runDir, dumps).catch((e) => ({ error: String(e) }));
  const originPath = 3 * (originMs.p50 ?? 0); // probe, master, chunklists: three origin answers in sequence
  return {
    N,
    starts: summary(startMs),
    stops: summary(stopMs),
    startFailures: starts.length - startMs.length,
    stopFailures: stops.length - stopMs.length,
    startWallS,
    stopWallS,
    origin: originMs,
    originPathMs: originPath,
    startsExOrigin: summary(startMs.map((x) => x - originPath)),
    workerCpu,
    phases,
  };
}

async function originAnswerTimes(origin, streams, n) {
  const urls = Array.from(
    { length: n },
    (_, i) => `${origin.url}/app/${streams[i % streams.length]}/llhls.m3u8`,
  );
  const times = await Promise.all(
    urls.map(async (url) => {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      return performance.now() - t0;
    }),
  );
  return summary(times);
}

/** The simplest loop over the same bytes: one GET at a time, piped to a file. */
async function runLimit(ctx) {
  const urls = await ctx.origin.call('segmentUrls', { streams: ctx.mainStreams, perRendition: 6 });
  log(
    `limit: simplest fetch+write loop over ${urls.length} segment URLs for ${options.limitSeconds} s`,
  );
  const child = fork(join(BENCH_DIR, 'lib', 'simple-copy.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const originCpu0 = cpuSeconds(ctx.origin.pid) ?? 0;
  const done = once(child, 'message');
  child.send({ urls, seconds: options.limitSeconds, dir: join(runDir, 'limit') });
  const [report] = await done;
  await once(child, 'exit').catch(() => {});
  await rm(join(runDir, 'limit'), { recursive: true, force: true });
  return {
    ...report,
    bytesPerCpuS: report.bytes / report.cpuS,
    bytesPerWallS: report.bytes / report.wallS,
    originCpu: (cpuSeconds(ctx.origin.pid) ?? 0) - originCpu0,
    avgSegmentBytes: report.bytes / report.files,
  };
}

/** One worker process; renditions added step by step; lag and CPU per step. */
async function runCapacity(ctx) {
  const { api, origin } = ctx;
  const steps = options.capacitySteps;
  const maxStreams = Math.ceil(steps[steps.length - 1] / RENDITIONS_PER_STREAM);
  const names = Array.from({ length: maxStreams }, (_, i) => `c${i}`);
  await origin.call('forgetRequests');
  const profileDir = join(runDir, 'cpu-profile');
  const nodeOptions = options.profile ? `--cpu-prof --cpu-prof-dir=${profileDir}` : undefined;
  const [worker] = await startWorkers(ctx, 1, 'cap', maxStreams + 10, nodeOptions);
  await sleep(2_000);
  const idle = await probeHeap(worker.pid, probeDir);
  log(
    `capacity: one worker (pid ${worker.pid}), steps ${steps.join(', ')} renditions, ${options.stepSeconds} s each` +
      (options.profile ? ' (CPU profile on)' : ''),
  );
  const dumps = [];
  const windows = [];
  try {
    for (const target of steps) {
      const streamsNeeded = Math.ceil(target / RENDITIONS_PER_STREAM);
      const newNames = names.slice(dumps.length, streamsNeeded);
      // Each step's streams get their own spread over a segment, so every step is evenly phased.
      await origin.call('add', {
        app: 'app',
        streams: newNames,
        options: {},
        spreadMs: spreadMs(),
      });
      const added = newNames.map((s) => ({ ...dumpSpec(s, 'cap'), step: windows.length }));
      const t0 = Date.now();
      const starts = await startDumps(api, added, 25);
      dumps.push(...added.filter((_, i) => starts[i].status === 200));
      const startS = (Date.now() - t0) / 1000;
      await sleep(options.settle * 1000);
      const from = {
        at: Date.now(),
        worker: cpuSeconds(worker.pid) ?? 0,
        origin: cpuSeconds(origin.pid) ?? 0,
        rss: rssBytes(worker.pid),
      };
      await sleep(options.stepSeconds * 1000);
      const to = {
        at: Date.now(),
        worker: cpuSeconds(worker.pid) ?? 0,
        origin: cpuSeconds(origin.pid) ?? 0,
        rss: rssBytes(worker.pid),
      };
      const heap = await probeHeap(worker.pid, probeDir);
      const wallS = (to.at - from.at) / 1000;
      const win = {
        renditions: dumps.length * RENDITIONS_PER_STREAM,
        from: from.at,
        to: to.at,
        startS,
        workerCores: (to.worker - from.worker) / wallS,
        originCores: (to.origin - from.origin) / wallS,
        rss: to.rss,
        live: heap ? heap.heapUsed + heap.external : undefined,
        step: windows.length,
      };
      windows.push(win);
      log(
        `  ${win.renditions} renditions: worker ${fmt(win.workerCores * 100, 0)}% of a core, origin ${fmt(win.originCores * 100, 0)}%, rss ${mb(win.rss)} MB`,
      );
      if (win.workerCores > 0.97) {
        log('  worker saturated: no further steps');
        break;
      }
    }
  } finally {
    await stopDumps(api, dumps, 50);
    await stopWorkers([worker]);
  }
  const { items, counts } = await readSegmentItems(dumps);
  await addCompletion(origin, items);
  const partS = 1; // the origin's part duration (1-second fixture fragments)
  // Missing segments anywhere (a rendition's sequence numbers with a hole): not real time.
  const byRendition = new Map();
  for (const it of items) {
    const key = `${it.stream}/${it.track}`;
    byRendition.set(key, [...(byRendition.get(key) ?? []), it.msn]);
  }
  let holes = 0;
  for (const msns of byRendition.values()) {
    msns.sort((a, b) => a - b);
    holes += msns[msns.length - 1] - msns[0] + 1 - new Set(msns).size;
  }
  for (const win of windows) {
    // Only dumps already running when the window opened, and never a dump's start segment.
    const lags = items
      .filter(
        (it) =>
          it.step <= win.step &&
          it.completedMs >= Math.max(win.from, it.requestedAt) &&
          it.completedMs <= win.to,
      )
      .map((it) => it.lagMs);
    win.lag = summary(lags);
    win.expected = Math.round((win.renditions * (win.to - win.from)) / 4000);
    const mediaHours = (win.renditions * (win.to - win.from)) / 1000 / 3600;
    win.cpuPerMediaHour = (win.workerCores * (win.to - win.from)) / 1000 / mediaHours;
    win.realTime =
      win.lag.p99 !== undefined &&
      win.lag.p99 <= partS * 1000 &&
      win.workerCores < 0.97 &&
      holes === 0;
  }
  const carried = windows.filter((w) => w.realTime).reduce((m, w) => Math.max(m, w.renditions), 0);
  // Memory per dump: least squares of live heap after GC over the number of dumps, idle included.
  const points = [
    [0, idle ? idle.heapUsed + idle.external : 0],
    ...windows
      .filter((w) => w.live !== undefined)
      .map((w) => [w.renditions / RENDITIONS_PER_STREAM, w.live]),
  ];
  const perDumpLive = slope(points);
  const profile = options.profile
    ? await summariseProfiles(profileDir).catch((e) => ({ error: String(e) }))
    : undefined;
  return { windows, carried, counts, profile, perDumpLive, idleLive: points[0][1], holes };
}

/** A one-hour dump simulated on a fast-clocked origin: memory and CPU per media-hour over time. */
async function runMemory(ctx) {
  const { api, memOrigin } = ctx;
  const M = options.memStreams;
  const names = Array.from({ length: M }, (_, i) => `m${i}`);
  await memOrigin.call('add', {
    app: 'mem',
    streams: names,
    options: {},
    spreadMs: options.aligned ? 0 : 4000 / options.memSpeed,
  });
  const [worker] = await startWorkers(ctx, 1, 'mem', M + 5);
  const realS = options.memMediaSeconds / options.memSpeed;
  log(
    `memory: ${M} dumps on one worker, origin ×${options.memSpeed}, ${options.memMediaSeconds} media s in ${fmt(realS)} s`,
  );
  const dumps = names.map((s) => dumpSpec(s, 'mem', 'mem'));
  await sleep(2_000);
  const idle = await probeHeap(worker.pid, probeDir);
  await startDumps(api, dumps, M);
  const t0 = Date.now();
  const series = [];
  const probes = 12;
  const snapshots = [];
  // Bounded: one probe (a full GC in the worker, then live heap, RSS and CPU) per 1/12 of the hour.
  for (let i = 0; i <= probes && i < 1000; i++) {
    const due = t0 + (i * realS * 1000) / probes;
    if (due > Date.now()) await sleep(due - Date.now());
    const snap = options.heapSnapshots && (i === 1 || i === probes);
    const heap = snap
      ? {
          snapshot: await heapSnapshot(worker.pid, probeDir),
          ...(await probeHeap(worker.pid, probeDir)),
        }
      : await probeHeap(worker.pid, probeDir);
    if (snap && heap.snapshot) snapshots.push(heap.snapshot);
    series.push({
      mediaS: ((Date.now() - t0) / 1000) * options.memSpeed,
      rss: rssBytes(worker.pid),
      live: heap ? heap.heapUsed + heap.external : undefined,
      cpu: cpuSeconds(worker.pid),
    });
  }
  await stopDumps(api, dumps, M);
  await stopWorkers([worker]);
  const { counts } = await readSegmentItems(dumps);
  // Warm-up excluded: from 1/12 of the hour on.
  const warm = series.slice(1);
  const growthPerHour = slope(warm.map((s) => [s.mediaS / 3600, s.live])) ?? 0;
  const last = series[series.length - 1];
  const perFifth = [];
  for (let k = 0; k < series.length - 1; k++) {
    const a = series[k];
    const b = series[k + 1];
    perFifth.push(((b.cpu - a.cpu) * 3600) / ((b.mediaS - a.mediaS) * M * RENDITIONS_PER_STREAM));
  }
  const expected = Math.floor(options.memMediaSeconds / 4) * M * RENDITIONS_PER_STREAM;
  const heapGrowth =
    snapshots.length === 2
      ? await diffSnapshots(snapshots[0], snapshots[1]).catch((e) => ({ error: String(e) }))
      : undefined;
  return {
    heapGrowth,
    growthMediaS: [series[1]?.mediaS, series[series.length - 1]?.mediaS],
    M,
    speed: options.memSpeed,
    realS,
    idleLive: idle ? idle.heapUsed + idle.external : undefined,
    idleRss: idle?.rss,
    series,
    growthPerHourPerDump: growthPerHour / M,
    endMinusWarmPerDump: ((last?.live ?? 0) - (warm[0]?.live ?? 0)) / M,
    cpuPerMediaHourBySlice: perFifth,
    segments: counts.segments,
    expectedSegments: expected,
    items: counts.items,
    status: counts.status,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function buildReport(r) {
  const L = [];
  const m = r.machine;
  L.push('', `## ${r.started}`, '');
  L.push(
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM, ${m.os}, Node ${m.node}, ${m.ffmpeg}`,
  );
  L.push(
    `- Parameters: ${Object.entries(r.options)
      .filter(([k]) => !['skip', 'results', 'hardLimitS'].includes(k))
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
      .join(', ')}${r.options.skip.size ? `; skipped: ${[...r.options.skip].join(', ')}` : ''}`,
  );
  L.push(
    `- Duration of the whole run: ${fmt((Date.now() - Date.parse(r.started)) / 1000, 0)} s; load average (1/5/15 min) at start ${m.loadavg.map((x) => fmt(x, 2)).join(' / ')}, at end ${os
      .loadavg()
      .map((x) => fmt(x, 2))
      .join(' / ')} (other work on the machine shows here and makes lag and CPU figures noisier)`,
  );
  L.push(
    '- Processes: test origin in its own process (node, its CPU reported apart), Redis (ephemeral redis-server), gateway and workers as `node services/*/dist/main.js`, ffmpeg peers `ffmpeg -i <master> -map 0 -c copy -f mpegts` (one per stream).',
  );
  L.push(
    r.options.aligned
      ? '- Streams phase-aligned (--aligned): every segment of every stream completes at the same instant, the worst case for bursts.'
      : "- Streams' clocks spread evenly over one segment duration, as independent live streams are (`--aligned` gives the worst case: all segments completing at once).",
  );
  L.push(
    "- Lag = the infoFile Item's `<Time>` of a segment minus the wall-clock moment the origin completed that segment (`segmentCompletedAt`, test-origin); ffmpeg has no infoFile, so its lag is the time of its GET of the segment at the origin (a lower bound for ffmpeg: its write comes after).",
  );
  L.push('');
  const targets = [];

  if (r.main) {
    const x = r.main;
    L.push(
      `### Side by side: ${x.K} streams × 3 renditions = ${x.renditions} live renditions, ${x.workers} worker processes, ${fmt(x.windowS, 0)} s measured (after ${r.options.warmup} s warm-up)`,
      '',
    );
    L.push(
      '| Figure | hlsdump | ffmpeg -c copy (one process per stream) |',
      '| --- | ---: | ---: |',
    );
    L.push(
      `| CPU s per media-hour per rendition | ${fmt(x.cpuPerMediaHour, 2)} | ${x.ffmpeg ? fmt(x.ffmpeg.cpuPerMediaHour, 2) : 'n/a'} |`,
    );
    L.push(
      `| CPU s in the window (all processes of that kind) | ${fmt(x.workerCpu, 2)} | ${x.ffmpeg ? fmt(x.ffmpeg.cpu, 2) : 'n/a'} |`,
    );
    L.push(
      `| Lag p50 / p99 / max, ms | ${ms(x.lag.p50)} / ${ms(x.lag.p99)} / ${ms(x.lag.max)} (n=${x.lag.n} of ~${x.expectedSegments}) | ${x.ffmpeg ? `${ms(x.ffmpeg.lag.p50)} / ${ms(x.ffmpeg.lag.p99)} / ${ms(x.ffmpeg.lag.max)} (n=${x.ffmpeg.lag.n}, GET at origin)` : 'n/a'} |`,
    );
    L.push(
      `| hlsdump's own GET of the segment at the origin, lag p50 / p99 / max, ms | ${ms(x.fetchLag.p50)} / ${ms(x.fetchLag.p99)} / ${ms(x.fetchLag.max)} | |`,
    );
    L.push(
      `| Memory per dump: live heap after GC (heapUsed + external) | ${mb(x.memory.perDumpLive, 2)} MB (workers ${mb(x.memory.baseLive)} MB idle → ${mb(x.memory.liveB)} MB) | |`,
    );
    L.push(
      `| Memory per dump: resident (RSS) | ${mb(x.memory.perDumpRss, 2)} MB (worker RSS ${x.memory.rssAtB.map((v) => mb(v)).join(' + ')} MB, idle ${x.memory.baseRss.map((v) => mb(v)).join(' + ')} MB) | ${x.ffmpeg ? `${mb(x.ffmpeg.rssPerProcess.p50)} MB per process (p50; one process per stream)` : 'n/a'} |`,
    );
    L.push(
      `| Live-heap growth over the window, per dump, scaled to 1 h | ${mb(x.memory.growthPerHourPerDump, 2)} MB/h | |`,
    );
    L.push(`| Segment bytes written per worker CPU second | ${mb(x.bytesPerCpuS, 2)} MB/s | |`);
    const perHour = (n) => fmt((n ?? 0) / x.mediaHours, 0);
    const rc = x.requestCounts ?? {};
    L.push(
      `| Origin requests per media-hour per rendition: playlists / segments | ${perHour(rc.hlsdump?.chunklist)} / ${perHour(rc.hlsdump?.segment)} | ${perHour(rc.Lavf?.chunklist)} / ${perHour(rc.Lavf?.segment)} |`,
    );
    L.push('');
    L.push(
      `- Other processes in the window: origin ${fmt(x.originCpu, 1)} CPU s (serving hlsdump and ffmpeg), gateway + Redis ${fmt(x.gatewayAndRedisCpu, 1)} CPU s.`,
    );
    L.push(
      `- Starts with ${x.K} in flight: p50 ${ms(x.starts.p50)} ms, p99 ${ms(x.starts.p99)} ms; stops: p50 ${ms(x.stops.p50)} ms, p99 ${ms(x.stops.p99)} ms.`,
    );
    L.push(
      `- infoFiles: ${JSON.stringify(x.counts.status)}, ${x.counts.items} Items (${x.counts.segments} segments, ${x.counts.chunklists} chunklist rewrites, ${x.counts.other} init/master).`,
    );
    if (x.ffmpeg) L.push(`- ffmpeg exits: ${JSON.stringify(x.ffmpeg.exits)}.`);
    L.push('');
    if (x.ffmpeg) {
      const ratio = x.cpuPerMediaHour / x.ffmpeg.cpuPerMediaHour;
      targets.push([
        "CPU per dumped media-hour ≤ 0.8× ffmpeg's",
        `${fmt(x.cpuPerMediaHour, 2)} vs ${fmt(x.ffmpeg.cpuPerMediaHour, 2)} CPU s (×${fmt(ratio, 2)}, target ≤ ×0.8)`,
        ratio <= 0.8,
      ]);
    }
    targets.push([
      'Lag p99 ≤ one part duration (1 000 ms)',
      `p99 ${ms(x.lag.p99)} ms, max ${ms(x.lag.max)} ms (ffmpeg GET p99 ${x.ffmpeg ? ms(x.ffmpeg.lag.p99) : 'n/a'} ms)`,
      x.lag.p99 <= 1000,
    ]);
  }
  if (r.api) {
    const a = r.api;
    L.push(`### API latency, ${a.N} starts in flight then ${a.N} stops in flight`, '');
    L.push(
      '| Call | p50 ms | p99 ms | max ms | failures | all answered in |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    L.push(
      `| start | ${ms(a.starts.p50)} | ${ms(a.starts.p99)} | ${ms(a.starts.max)} | ${a.startFailures} | ${fmt(a.startWallS, 1)} s |`,
    );
    L.push(
      `| start minus the origin's own answers (3 × origin p50) | ${ms(a.startsExOrigin.p50)} | ${ms(a.startsExOrigin.p99)} | ${ms(a.startsExOrigin.max)} | | |`,
    );
    L.push(
      `| stop | ${ms(a.stops.p50)} | ${ms(a.stops.p99)} | ${ms(a.stops.max)} | ${a.stopFailures} | ${fmt(a.stopWallS, 1)} s |`,
    );
    L.push(
      `| the origin alone: ${a.N} GETs of a master in flight | ${ms(a.origin.p50)} | ${ms(a.origin.p99)} | ${ms(a.origin.max)} | | |`,
    );
    L.push('');
    L.push(
      `- Worker CPU during the burst (starts, 5 s running, stops): ${fmt(a.workerCpu, 1)} s over ${r.options.workers} workers.`,
      '',
    );
    if (a.phases && !a.phases.error) {
      L.push("Where the time goes (from the services' pino log timestamps, ms):", '');
      L.push('| Step | p50 | p99 | max |', '| --- | ---: | ---: | ---: |');
      for (const [name, x] of [
        ...a.phases.start.map(([n, v]) => [`start: ${n}`, v]),
        ...a.phases.stop.map(([n, v]) => [`stop: ${n}`, v]),
      ])
        L.push(`| ${name} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} |`);
      L.push('');
    }
    targets.push([
      `Start p99 ≤ 300 ms and stop p99 ≤ 200 ms with ${a.N} in flight (excl. origin)`,
      `start p99 ${ms(a.startsExOrigin.p99)} ms (raw ${ms(a.starts.p99)}), stop p99 ${ms(a.stops.p99)} ms`,
      (a.startsExOrigin.p99 ?? Infinity) <= 300 && (a.stops.p99 ?? Infinity) <= 200,
    ]);
  }
  if (r.limit) {
    const l = r.limit;
    L.push('### Limit: the simplest fetch-and-write loop over the same bytes', '');
    L.push(
      '| Loop | Files | MB | CPU s | MB per CPU s | MB per wall s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    L.push(
      `| one GET at a time (node:http, keep-alive) piped to a file | ${l.files} | ${mb(l.bytes)} | ${fmt(l.cpuS, 2)} | ${mb(l.bytesPerCpuS, 2)} | ${mb(l.bytesPerWallS, 2)} |`,
    );
    if (r.main) {
      L.push(
        `| hlsdump workers in the side-by-side run (segment bytes) | | ${mb(r.main.segmentBytes)} | ${fmt(r.main.workerCpu, 2)} | ${mb(r.main.bytesPerCpuS, 2)} | (real time) |`,
      );
      L.push(
        '',
        `- hlsdump's throughput per CPU second is ${fmt((r.main.bytesPerCpuS / l.bytesPerCpuS) * 100, 1)} % of the simplest loop's: it spends ×${fmt(l.bytesPerCpuS / r.main.bytesPerCpuS, 2)} the loop's CPU per byte dumped (segments of ${fmt(l.avgSegmentBytes / 1024, 0)} KiB on average; the origin spent ${fmt(l.originCpu, 1)} CPU s serving the loop). The loop's ${mb(l.bytesPerCpuS, 1)} MB per CPU second at these streams' ${fmt((l.avgSegmentBytes * 8) / 4 / 1000, 0)} kbit/s average is the ceiling of ~${fmt(l.bytesPerCpuS / (l.avgSegmentBytes / 4), 0)} renditions per core for any design that fetches whole segments.`,
      );
    }
    L.push('');
    if (r.main) {
      const times = l.bytesPerCpuS / r.main.bytesPerCpuS;
      targets.push([
        "CPU per byte dumped ≤ 2× the simplest loop's (its MB per CPU s ≥ 50 % of the loop's)",
        `×${fmt(times, 2)} (${mb(r.main.bytesPerCpuS, 2)} vs ${mb(l.bytesPerCpuS, 2)} MB per CPU s, at these streams' ${fmt((l.avgSegmentBytes * 8) / 4 / 1000, 0)} kbit/s)`,
        times <= 2,
      ]);
    }
  }
  if (r.capacity) {
    const c = r.capacity;
    L.push('### Capacity of one worker process (one core): renditions added step by step', '');
    L.push(
      '| Live renditions | Worker CPU (cores) | CPU s per media-hour per rendition | Lag p50 / p99 / max ms | Segments seen / expected | Worker RSS MB | Live heap after GC MB | Origin CPU (cores) | Real time (p99 ≤ 1 s) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const w of c.windows) {
      L.push(
        `| ${w.renditions} | ${fmt(w.workerCores, 2)} | ${fmt(w.cpuPerMediaHour, 2)} | ${ms(w.lag.p50)} / ${ms(w.lag.p99)} / ${ms(w.lag.max)} | ${w.lag.n} / ${w.expected} | ${mb(w.rss)} | ${mb(w.live)} | ${fmt(w.originCores, 2)} | ${w.realTime ? 'yes' : 'no'} |`,
      );
    }
    L.push(
      '',
      `- Memory per dump (3 renditions), least squares of the live heap after GC over the number of dumps (idle worker ${mb(c.idleLive)} MB): ${mb(c.perDumpLive, 3)} MB.`,
    );
    const top = c.windows[c.windows.length - 1];
    const perCoreEstimate = top ? top.renditions / top.workerCores : undefined;
    L.push(
      '',
      `- Largest step carried in real time: ${c.carried} renditions. At the largest step the worker used ${fmt(top?.workerCores, 2)} of a core: linear extrapolation ≈ ${fmt(perCoreEstimate, 0)} renditions per core (CPU-bound estimate; lag not measured there).`,
    );
    L.push(
      `- infoFiles: ${JSON.stringify(c.counts.status)}; segments missing from any rendition's sequence: ${c.holes}. "Segments seen / expected": expected is renditions × window / 4 s, approximate (a window holds 3 or 4 completions per rendition depending on phase).`,
      '',
    );
    if (c.profile && !c.profile.error) {
      L.push(
        `#### Where the capacity worker's CPU goes (node --cpu-prof, ${fmt(c.profile.busyMs / 1000, 1)} s busy)`,
        '',
      );
      L.push('| Package / category | Self ms | Share |', '| --- | ---: | ---: |');
      for (const p of c.profile.packages)
        L.push(`| ${p.name} | ${fmt(p.ms, 0)} | ${fmt(p.share * 100, 1)} % |`);
      L.push('', '| Function (self time) | Self ms | Share |', '| --- | ---: | ---: |');
      for (const f of c.profile.functions)
        L.push(`| \`${f.name}\` | ${fmt(f.ms, 0)} | ${fmt(f.share * 100, 1)} % |`);
      L.push('');
    }
    targets.push([
      'One worker process carries ≥ 1 000 live renditions in real time (lag p99 ≤ 1 part)',
      `${c.carried} carried (steps: ${c.windows.map((w) => `${w.renditions}→p99 ${ms(w.lag.p99)} ms @ ${fmt(w.workerCores * 100, 0)}% core`).join(', ')})`,
      c.carried >= 1000,
    ]);
  }
  if (r.memory) {
    const y = r.memory;
    L.push(
      `### One-hour dump, simulated: ${y.M} dumps × 3 renditions on one worker, origin clock ×${y.speed} (${fmt(y.realS, 0)} s real)`,
      '',
    );
    L.push(
      '| Media time (s) | Worker live heap after GC (MB) | Worker RSS (MB) | Worker CPU s per media-hour per rendition since the previous row |',
      '| ---: | ---: | ---: | ---: |',
    );
    y.series.forEach((s, i) =>
      L.push(
        `| ${fmt(s.mediaS, 0)} | ${mb(s.live, 2)} | ${mb(s.rss)} | ${i === 0 ? '' : fmt(y.cpuPerMediaHourBySlice[i - 1], 2)} |`,
      ),
    );
    L.push('');
    L.push(
      `- Idle worker: live heap ${mb(y.idleLive, 2)} MB, RSS ${mb(y.idleRss)} MB. Dumps: ${JSON.stringify(y.status)}; ${y.segments} segments of ~${y.expectedSegments} expected; ${y.items} infoFile Items.`,
    );
    L.push(
      `- Live-heap growth per dump from 1/12 of the hour to its end: ${mb(y.endMinusWarmPerDump, 3)} MB; least-squares slope: ${mb(y.growthPerHourPerDump, 3)} MB per dump per media-hour.`,
    );
    if (Array.isArray(y.heapGrowth)) {
      L.push(
        `What the worker's heap gained between media ${fmt(y.growthMediaS[0], 0)} s and ${fmt(y.growthMediaS[1], 0)} s (two heap snapshots after GC, by constructor, self size):`,
        '',
      );
      L.push(
        '| Constructor / kind | Objects added | Self size added (KB) |',
        '| --- | ---: | ---: |',
      );
      for (const g of y.heapGrowth)
        L.push(`| \`${g.name.slice(0, 60)}\` | ${g.count} | ${fmt(g.size / 1024, 0)} |`);
      L.push('');
    }
    L.push(
      '- At this clock speed a part lasts 1/' +
        y.speed +
        " s: the worker may not keep up in real time here (that is the capacity phase's question); what is measured is the state a one-hour dump accumulates.",
      '',
    );
    targets.push([
      'Memory per dump flat: growth over a one-hour dump < 1 MB',
      `${mb(y.endMinusWarmPerDump, 3)} MB per dump (live heap after GC; slope ${mb(y.growthPerHourPerDump, 3)} MB/h)`,
      y.endMinusWarmPerDump < 2 ** 20,
    ]);
  }
  if (r.info) {
    L.push('### infoFile appends (bench/info-file-append.mjs, run as part of this suite)', '');
    L.push(r.info.report.replace(/^## .*\n/, '').trim(), '');
    // The benchmark's own control (appends at Item ~1 000 interleaved with those at Item 100 000)
    // sees the same machine load; the raw ratio compares two moments whose load may differ.
    const ratio = Math.min(r.info.medianRatio, r.info.controlRatio ?? Infinity);
    targets.push([
      'infoFile: the 100 000th append costs ≤ 2× the 1 000th',
      `median ×${r.info.controlRatio} against the interleaved control at Item ~1 000 (same moment, same load); raw ×${r.info.medianRatio} against the Item-1 000 window timed ~30 s earlier`,
      ratio <= 2,
    ]);
  }
  L.push('### Targets', '');
  L.push('| Target | Measured | Met |', '| --- | --- | --- |');
  for (const [name, value, met] of targets)
    L.push(`| ${name} | ${value} | ${met ? 'met' : '**missed**'} |`);
  L.push('');
  if (r.notes.length) L.push('### Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) osName = `${pretty[1]} (${os.type()} ${os.release()}, ${os.arch()})`;
  } catch {
    /* not Linux */
  }
  let ffmpeg = 'ffmpeg not found';
  try {
    ffmpeg =
      /ffmpeg version \S+/.exec(execFileSync('/usr/bin/ffmpeg', ['-version']).toString())?.[0] ??
      'ffmpeg';
  } catch {
    /* none */
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown CPU',
    cores: cpus.length,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: osName,
    node: process.version,
    ffmpeg,
    loadavg: os.loadavg(),
  };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'default' },
      streams: { type: 'string' },
      workers: { type: 'string' },
      seconds: { type: 'string' },
      speed: { type: 'string' },
      warmup: { type: 'string' },
      'api-starts': { type: 'string' },
      'capacity-steps': { type: 'string' },
      'step-seconds': { type: 'string' },
      settle: { type: 'string' },
      'mem-streams': { type: 'string' },
      'mem-speed': { type: 'string' },
      'mem-media-seconds': { type: 'string' },
      'limit-seconds': { type: 'string' },
      'info-items': { type: 'string' },
      'info-naive': { type: 'string' },
      skip: { type: 'string', default: '' },
      'no-ffmpeg': { type: 'boolean', default: false },
      aligned: { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      results: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const preset = PRESETS[values.preset];
  if (!preset) throw new Error(`unknown preset ${values.preset}\n${USAGE}`);
  const v = {
    ...preset,
    ...Object.fromEntries(Object.entries(values).filter(([, x]) => x !== undefined)),
  };
  const num = (name, min = 0) => {
    const n = Number(v[name]);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const steps = String(v['capacity-steps']).split(',').map(Number);
  if (steps.some((s) => !Number.isInteger(s) || s < 3))
    throw new Error(`--capacity-steps must be integers ≥ 3\n${USAGE}`);
  const o = {
    preset: values.preset,
    streams: num('streams', 1),
    workers: num('workers', 1),
    seconds: num('seconds', 5),
    speed: num('speed', 0.1),
    warmup: num('warmup', 0),
    apiStarts: num('api-starts', 1),
    capacitySteps: steps.sort((a, b) => a - b),
    stepSeconds: num('step-seconds', 5),
    settle: num('settle', 0),
    memStreams: num('mem-streams', 1),
    memSpeed: num('mem-speed', 1),
    memMediaSeconds: num('mem-media-seconds', 60),
    limitSeconds: num('limit-seconds', 1),
    infoItems: num('info-items', 2000),
    infoNaive: num('info-naive', 2000),
    ffmpeg: !values['no-ffmpeg'],
    aligned: values.aligned,
    heapSnapshots: values['heap-snapshots'],
    profile: values.profile,
    keep: values.keep,
    skip: new Set(String(v.skip).split(',').filter(Boolean)),
    results: values.results ?? RESULTS_FILE,
  };
  // The whole run's bound: every phase's own duration plus generous slack for starts and stops.
  o.hardLimitS = Math.ceil(
    120 +
      o.seconds +
      o.warmup +
      60 +
      o.capacitySteps.length * (o.stepSeconds + o.settle + 30) +
      o.memMediaSeconds / o.memSpeed +
      60 +
      o.limitSeconds +
      600,
  );
  return o;
}

async function cleanup() {
  for (const f of children.ffmpeg) if (f.exitCode === null) f.kill('SIGKILL');
  await Promise.all(children.workers.map((w) => terminate(w, 10_000)));
  children.workers = [];
  await terminate(children.gateway, 10_000);
  children.gateway = undefined;
  await Promise.all(children.origins.map((o) => o.close().catch(() => {})));
  children.origins = [];
  await children.redis?.stop().catch(() => {});
  children.redis = undefined;
}
