// hlsdump at real bitrates, side by side with the simplest loop and ffmpeg, in one run:
//
//   npm run bench:bitrate                        # ~4 minutes: 150 s measured window
//   npx node bench/real-bitrate.ts --seconds 600 --warmup 30 --segment-type mpegts
//   npx node bench/real-bitrate.ts --cpu-prof --results bench/results/real-bitrate-profile.md
//   npx node bench/real-bitrate.ts --cpu-prof-out /tmp/worker.cpuprofile   # also keeps the raw profile
//
// The origin is ffmpeg's HLS muxer (live, -re, a 6 + 3 + 1.5 Mbit/s ladder + 128 kbit/s audio,
// 2 s segments, old segments deleted) looping a source encoded once with -c copy, served by
// Debian's nginx. Three recorders copy the same four renditions over the same wall window:
// hlsdump (Redis, a gateway and one worker, started through the API), the simplest
// fetch-and-write loop (test/support/simple-hls-copy.ts) and ffmpeg -c copy to HLS. Each one's CPU
// comes from /proc, its bytes from the media files it wrote; the hlsdump copy is then compared
// byte for byte with the origin's files. Writes bench/results/real-bitrate.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/support/cluster.ts';
import {
  archiveListedFiles,
  LADDER_AUDIO,
  REAL_LADDER,
  startLadderOrigin,
} from '../test/support/ffmpeg-ladder-origin.ts';
import { machineLines } from '../test/support/machine.ts';
import { startNginx } from '../test/support/nginx-server.ts';
import { procSample, type ProcSample } from '../test/support/proc-stats.ts';
import { commandLine, descendants } from '../test/support/process-tree.ts';
import { threadCpu, threadCpuDelta } from './lib/thread-cpu.ts';
import { commitOf } from './lib/worker-build.ts';
import { waitFor } from '../test/support/wait-for.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOOP_SCRIPT = join(REPO_ROOT, 'test/support/simple-hls-copy.ts');
const MEDIA_FILE = /\.(m4s|mp4|ts)$/;
const SEGMENT_SECONDS = 2;
const TARGET_RATIO = 0.5;
/** Names JavaScript functions for perf; the V8 log it also writes goes to the run's folder, not the cwd. */
const perfNodeArgs = (runDir: string): string[] => [
  '--perf-basic-prof',
  `--logfile=${join(runDir, 'v8-%p.log')}`,
  '--no-logfile-per-isolate',
];

interface Options {
  seconds: number;
  warmup: number;
  idle: number;
  segmentType: 'fmp4' | 'mpegts';
  cpuProf: boolean;
  /** Where to keep the worker's raw .cpuprofile (the run's folder is removed at the end). */
  cpuProfOut: string | undefined;
  traceGc: boolean;
  /** Where to write `perf record` data of the worker and the loop over the window (FILE.worker, FILE.loop). */
  perfOut: string | undefined;
  results: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    seconds: 150,
    warmup: 20,
    idle: 20,
    segmentType: 'fmp4',
    cpuProf: false,
    cpuProfOut: undefined,
    traceGc: false,
    perfOut: undefined,
    results: join(REPO_ROOT, 'bench/results/real-bitrate.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const positive = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number`);
      return n;
    };
    if (flag === '--seconds') options.seconds = positive();
    else if (flag === '--warmup') options.warmup = positive();
    else if (flag === '--idle') options.idle = positive();
    else if (flag === '--segment-type') {
      const v = value();
      if (v !== 'fmp4' && v !== 'mpegts') throw new Error('--segment-type is fmp4 or mpegts');
      options.segmentType = v;
    } else if (flag === '--cpu-prof') options.cpuProf = true;
    else if (flag === '--cpu-prof-out') {
      options.cpuProf = true;
      options.cpuProfOut = value();
    } else if (flag === '--trace-gc') options.traceGc = true;
    else if (flag === '--perf-out') options.perfOut = value();
    else if (flag === '--results') options.results = value();
    else
      throw new Error(
        `unknown flag ${flag} (--seconds N --warmup N --idle N --segment-type fmp4|mpegts --cpu-prof --cpu-prof-out FILE --trace-gc --perf-out FILE --results FILE)`,
      );
  }
  return options;
}

const options = parseOptions(process.argv.slice(2));
const log = (message: string): void => console.log(`[${new Date().toISOString()}] ${message}`);

/** Sum of the sizes of the media files (segments, init segments) in a folder, by name. */
function mediaFiles(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir))
    if (MEDIA_FILE.test(name)) {
      try {
        files.set(name, statSync(join(dir, name)).size);
      } catch {
        // removed meanwhile
      }
    }
  return files;
}
const totalBytes = (files: Map<string, number>): number =>
  [...files.values()].reduce((a, b) => a + b, 0);
const cpuOf = (pids: number[]): number =>
  pids.reduce((sum, pid) => sum + (procSample(pid)?.cpuS ?? 0), 0);

/** The whole machine's busy share of its cores, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const n = fields.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function version(command: string, args: string[], pattern: RegExp): string {
  // nginx prints its version on stderr.
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`)?.[1] ?? 'unknown';
}

/** Compares every media file of `dir` with the origin's file of the same name. */
async function compareWithOrigin(
  dir: string,
  originDir: string,
): Promise<{ equal: number; different: string[]; missingAtOrigin: string[] }> {
  const result = { equal: 0, different: [] as string[], missingAtOrigin: [] as string[] };
  for (const name of (await readdir(dir)).filter((n) => MEDIA_FILE.test(n))) {
    const served = await readFile(join(originDir, name)).catch(() => undefined);
    if (served === undefined) result.missingAtOrigin.push(name);
    else if (served.equals(await readFile(join(dir, name)))) result.equal++;
    else result.different.push(name);
  }
  return result;
}

/** Now on the clock V8's profiles use (CLOCK_MONOTONIC, microseconds). */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

interface ProfileSlice {
  /** Sampled time with the thread busy (idle samples left out), µs. */
  busyUs: number;
  /** Self time by where the code lives: the product's packages, its dependencies, Node, GC. */
  areas: [string, number][];
  /** Self time per function, the heaviest first. */
  functions: [string, number][];
}

/** The samples of a V8 .cpuprofile taken between `fromUs` and `toUs` (monotonic µs). */
function profileSlice(path: string, fromUs: number, toUs: number, top: number): ProfileSlice {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  let busyUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < fromUs || at > toUs) return;
    const frame = byId.get(id);
    const name = frame?.functionName || '(anonymous)';
    if (name === '(idle)') return;
    busyUs += dt;
    const url = frame?.url ?? '';
    const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
    const own = /\/(?:packages|services)\/([^/]+)\//.exec(url)?.[1];
    const area =
      url === ''
        ? name === '(garbage collector)'
          ? 'garbage collector'
          : `native: ${name}`
        : url.startsWith('node:')
          ? 'Node internals (node:*)'
          : dependency !== undefined
            ? `dependency ${dependency}`
            : own !== undefined
              ? `hlsdump ${own}`
              : 'other';
    add(areas, area, dt);
    const where = url.replace(/^.*\/(node_modules|packages|services)\//, '$1/');
    add(functions, `${name}${where ? ` ${where}:${(frame?.lineNumber ?? 0) + 1}` : ''}`, dt);
  });
  const sorted = (map: Map<string, number>): [string, number][] =>
    [...map].sort((x, y) => y[1] - x[1]).slice(0, top);
  return { busyUs, areas: sorted(areas), functions: sorted(functions) };
}

/** V8's --trace-gc lines in a process's output: pauses by kind, and how many external memory asked for. */
function gcSummary(output: string): string {
  const kinds = new Map<string, { count: number; ms: number }>();
  let external = 0;
  for (const line of output.split('\n')) {
    const m =
      /ms: ((?:Minor |Incremental )?[A-Z][\w-]+(?: \(reduce\))?)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/.exec(
        line,
      );
    if (!m) continue;
    const kind = kinds.get(m[1]!) ?? { count: 0, ms: 0 };
    kind.count++;
    // Incremental marking's steps come before the final pause and are reported beside it.
    kind.ms += Number(m[2]) + Number(/\(\+ ([\d.]+) ms in \d+ steps/.exec(line)?.[1] ?? 0);
    kinds.set(m[1]!, kind);
    if (/external memory pressure/.test(line)) external++;
  }
  if (kinds.size === 0) return 'no --trace-gc lines';
  return `${[...kinds].map(([k, v]) => `${v.count} ${k} (${v.ms.toFixed(0)} ms)`).join(', ')}; ${external} of them for external memory pressure`;
}

function startFfmpegCopy(masterUrl: string, dir: string): ChildProcess {
  const renditions = [...REAL_LADDER.map((r) => r.name), LADDER_AUDIO.name];
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', masterUrl],
      ...REAL_LADDER.flatMap((_, i) => ['-map', `0:v:${i}`]),
      ...['-map', '0:a:0', '-c', 'copy'],
      ...['-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_list_size', '0'],
      ...(options.segmentType === 'fmp4'
        ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4']
        : []),
      '-var_stream_map',
      renditions
        .map((name, i) => (i < REAL_LADDER.length ? `v:${i},name:${name}` : `a:0,name:${name}`))
        .join(' '),
      ...[
        '-hls_segment_filename',
        join(dir, `%v_%05d.${options.segmentType === 'fmp4' ? 'm4s' : 'ts'}`),
      ],
      join(dir, '%v.m3u8'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-3000)));
  return Object.assign(child, { stderrTail: () => stderr });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return `had exited (${child.exitCode ?? child.signalCode})`;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, sig) => resolve([code, sig])),
  );
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, sig] = await exited;
  clearTimeout(killer);
  return sig ?? String(code);
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  const runDir = await mkdtemp(join(tmpdir(), 'hlsdump-bench-bitrate-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse())
      await c().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    cleanups.length = 0;
    await rm(runDir, { recursive: true, force: true });
  };
  // A hard bound on the whole run: it stops by itself whatever happens.
  const hardLimit = setTimeout(
    () => {
      log('hard time limit reached: cleaning up');
      void cleanup().finally(() => process.exit(3));
    },
    (options.seconds + options.warmup + options.idle + 240) * 1000,
  );
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    await run(runDir, cleanups);
  } finally {
    clearTimeout(hardLimit);
    await cleanup();
  }
}

async function run(runDir: string, cleanups: (() => Promise<unknown>)[]): Promise<void> {
  const started = new Date();
  const app = 'app';
  const stream = 'ladder';
  log('encoding the ladder source (once; cached in the temp dir) and starting the origin');
  const origin = await startLadderOrigin({
    app,
    stream,
    segmentType: options.segmentType,
    segmentSeconds: SEGMENT_SECONDS,
  });
  cleanups.push(() => origin.close());
  // Every segment of the run is kept, so each copy can be compared with all of it afterwards.
  const archiveDir = join(runDir, 'origin-archive');
  const stopArchive = archiveListedFiles(origin, archiveDir);
  cleanups.push(stopArchive);
  const nginx = await startNginx(origin.root, { keepaliveRequests: 1000 });
  cleanups.push(() => nginx.close());
  const masterUrl = `${nginx.url}/${app}/${stream}/${origin.masterPlaylist}`;
  const nginxPids = descendants(process.pid).filter((pid) => /nginx/.test(commandLine(pid)));

  const logDir = join(runDir, 'logs');
  const profDir = join(runDir, 'cpu-prof');
  await mkdir(logDir, { recursive: true });
  log('starting Redis, the gateway and one worker');
  const cluster = await startCluster({
    workers: 1,
    origins: {
      vhosts: {
        default: {
          apps: {
            [app]: {
              origin: `${nginx.url}/{app}/{outputStreamName}/`,
              defaultPlaylist: origin.masterPlaylist,
            },
          },
        },
      },
    },
    timeouts: 'shipped',
    logDir,
    workerNodeArgs: [
      // A sample every 5 ms: at the default 1 ms the profiler costs more CPU than the worker.
      ...(options.cpuProf
        ? ['--cpu-prof', '--cpu-prof-interval=5000', `--cpu-prof-dir=${profDir}`]
        : []),
      ...(options.traceGc ? ['--trace-gc'] : []),
      // perf can then name the JavaScript functions it samples.
      ...(options.perfOut !== undefined ? perfNodeArgs(runDir) : []),
    ],
  });
  cleanups.push(() => cluster.close());
  const worker = cluster.workers[0]!;
  // The worker's cost with nothing to record: heartbeats, queue polling, metrics.
  const idleA = {
    at: performance.now(),
    us: monotonicUs(),
    cpu: procSample(worker.pid)?.cpuS ?? NaN,
  };
  log(`measuring the idle worker for ${options.idle} s`);
  await new Promise((r) => setTimeout(r, options.idle * 1000));
  const idleCpuPerS =
    ((procSample(worker.pid)?.cpuS ?? NaN) - idleA.cpu) / ((performance.now() - idleA.at) / 1000);
  const idleB = { us: monotonicUs() };

  const dump = await cluster.startDump({
    stream,
    id: 'bitrate',
    playlist: [origin.masterPlaylist],
  });
  if (dump.status !== 200)
    throw new Error(
      `start answered ${dump.status}: ${JSON.stringify(dump.body)}\n${cluster.logs()}`,
    );
  const loopDir = join(runDir, 'loop');
  const loop = spawn(
    process.execPath,
    [
      ...(options.traceGc ? ['--trace-gc'] : []),
      ...(options.perfOut !== undefined ? perfNodeArgs(runDir) : []),
      LOOP_SCRIPT,
      masterUrl,
      loopDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let loopOutput = '';
  loop.stdout.setEncoding('utf8').on('data', (c: string) => (loopOutput += c));
  loop.stderr.setEncoding('utf8').on('data', (c: string) => (loopOutput += c));
  cleanups.push(() => stopChild(loop, 'SIGKILL'));
  const ffmpegDir = join(runDir, 'ffmpeg');
  await mkdir(ffmpegDir);
  const ffmpeg = startFfmpegCopy(masterUrl, ffmpegDir);
  cleanups.push(() => stopChild(ffmpeg, 'SIGKILL'));

  const renditions = REAL_LADDER.length + 1;
  await waitFor(
    'hlsdump to copy a segment of every rendition',
    async () => {
      const status = await cluster.status('default', app, stream, 'bitrate');
      const list = status.dump?.renditions ?? [];
      return list.length === renditions && list.every((r) => r.segments > 0);
    },
    { timeoutMs: 60_000, intervalMs: 500, details: () => cluster.logs(2000) },
  );
  log(`all three recorders running; warming up ${options.warmup} s`);
  await new Promise((r) => setTimeout(r, options.warmup * 1000));

  const pids = {
    worker: [worker.pid!],
    loop: [loop.pid!],
    ffmpeg: [ffmpeg.pid!],
    gateway: [cluster.gateway.pid!],
    redis: cluster.redis.process?.pid !== undefined ? [cluster.redis.process.pid] : [],
    origin: [origin.ffmpeg.pid!],
    nginx: nginxPids,
  };
  type Who = keyof typeof pids;
  const dirs = { worker: dump.outputPath, loop: loopDir, ffmpeg: ffmpegDir };
  const sample = () => ({
    at: performance.now(),
    us: monotonicUs(),
    cpu: Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, cpuOf(v)])) as Record<
      Who,
      number
    >,
    bytes: Object.fromEntries(
      Object.entries(dirs).map(([k, d]) => [k, totalBytes(mediaFiles(d))]),
    ) as Record<keyof typeof dirs, number>,
    machine: machineTicks(),
  });
  const threadsA = { worker: threadCpu(worker.pid), loop: threadCpu(loop.pid) };
  // perf samples on CPU time, every thread of the process, kernel included: what the /proc figures
  // count, unlike the V8 profiler's samples of the JavaScript thread.
  const perfs =
    options.perfOut === undefined
      ? []
      : (['worker', 'loop'] as const).map((who) =>
          spawn(
            'perf',
            [
              ...['record', '-e', 'cpu-clock', '-F', '499', '-g'],
              ...['-p', String(who === 'worker' ? worker.pid : loop.pid)],
              ...['-o', `${options.perfOut}.${who}`],
            ],
            { stdio: 'ignore' },
          ),
        );
  const a = sample();
  const loads: number[] = [];
  log(`measuring for ${options.seconds} s`);
  const windowEnd = Date.now() + options.seconds * 1000;
  while (Date.now() < windowEnd) {
    loads.push(loadavg()[0]!);
    await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(0, windowEnd - Date.now()))));
  }
  const b = sample();
  await Promise.all(
    perfs.map((perf) => new Promise((done) => perf.once('exit', done).kill('SIGINT'))),
  );
  const threads = {
    worker: threadCpuDelta(threadsA.worker, threadCpu(worker.pid)),
    loop: threadCpuDelta(threadsA.loop, threadCpu(loop.pid)),
  };
  loads.push(loadavg()[0]!);
  const rss: Record<string, ProcSample | undefined> = {
    worker: procSample(worker.pid),
    loop: procSample(loop.pid),
    ffmpeg: procSample(ffmpeg.pid),
  };

  log('stopping');
  const statusBefore = await cluster.status('default', app, stream, 'bitrate');
  const stop = await cluster.stopDump({ stream, id: 'bitrate' });
  const loopExit = await stopChild(loop, 'SIGTERM');
  const ffmpegExit = await stopChild(ffmpeg, 'SIGINT');
  await waitFor(
    'the dump to stop',
    async () => {
      const s = await cluster.status('default', app, stream, 'bitrate');
      return s.dump !== undefined && s.dump.status !== 'Running' && s.dump.status !== 'Pending';
    },
    { timeoutMs: 30_000, intervalMs: 500, details: () => cluster.logs(2000) },
  ).catch((e: unknown) => log(String(e)));
  const finalStatus = (await cluster.status('default', app, stream, 'bitrate')).dump;

  log('comparing the copies with the origin');
  await stopArchive();
  const hlsdumpCheck = await compareWithOrigin(dump.outputPath, archiveDir);
  const loopCheck = await compareWithOrigin(loopDir, archiveDir);

  let profile: { window: ProfileSlice; idle: ProfileSlice } | undefined;
  if (options.cpuProf) {
    // The profile is written when the worker exits by itself.
    await worker.kill('SIGTERM');
    const file = (await readdir(profDir).catch(() => [] as string[])).find((f) =>
      f.endsWith('.cpuprofile'),
    );
    if (file !== undefined) {
      const path = join(profDir, file);
      if (options.cpuProfOut !== undefined) await copyFile(path, options.cpuProfOut);
      profile = {
        window: profileSlice(path, a.us, b.us, 30),
        idle: profileSlice(path, idleA.us, idleB.us, 12),
      };
    }
  }

  const gc = options.traceGc
    ? {
        worker: gcSummary(await readFile(join(logDir, `${worker.id}.log`), 'utf8').catch(() => '')),
        loop: gcSummary(loopOutput),
      }
    : undefined;

  // Figures.
  const wallS = (b.at - a.at) / 1000;
  const mediaHoursPerRendition = wallS / 3600;
  const cpu = (who: Who): number => b.cpu[who] - a.cpu[who];
  const mb = (who: keyof typeof dirs): number => (b.bytes[who] - a.bytes[who]) / 1e6;
  const recorders = [
    ['hlsdump worker', 'worker'],
    ['simplest loop', 'loop'],
    ['ffmpeg -c copy', 'ffmpeg'],
  ] as const;
  const rows = recorders.map(([label, who]) => ({
    label,
    who,
    cpu: cpu(who),
    mb: mb(who),
    mbPerCpuS: mb(who) / cpu(who),
    cpuPerMediaHour: cpu(who) / (mediaHoursPerRendition * renditions),
    rssMb: (rss[who]?.rssKb ?? NaN) / 1024,
  }));
  const [hlsdump, simple, ff] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
  const ratio = hlsdump.mbPerCpuS / simple.mbPerCpuS;
  const busyShare =
    (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total);
  const host = machineLines();
  const versions = {
    node: process.version,
    ffmpeg: version('ffmpeg', ['-version'], /ffmpeg version (\S+)/),
    nginx: version('/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/),
    redis: version('redis-server', ['--version'], /v=(\S+)/),
    hlsdump: commitOf(REPO_ROOT),
  };
  const originBitrate = (mb('loop') * 8) / wallS;
  const loopTotals = (() => {
    try {
      return JSON.parse(loopOutput.trim().split('\n').pop() ?? '') as {
        segments: number;
        bytes: number;
        errors: number;
      };
    } catch {
      return undefined;
    }
  })();

  const L: string[] = [];
  L.push('# hlsdump at real bitrates: MB written per CPU second, side by side', '');
  L.push(
    `Generated by \`npm run bench:bitrate\` (\`bench/real-bitrate.ts\`${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}).`,
    '',
  );
  L.push('## Run', '');
  L.push(
    `- Date: ${started.toISOString()} (measured window ${fmt(wallS, 1)} s after a ${options.warmup} s warm-up).`,
  );
  L.push(`- Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB RAM, ${host.os}.`);
  L.push(
    `- Load: 1-min load average during the window ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)} (mean ${fmt(loads.reduce((x, y) => x + y, 0) / loads.length, 1)}) on ${host.cores} cores; the whole machine was ${fmt(busyShare * 100, 0)} % busy. The machine is shared with other work: CPU seconds below are each process's own (utime + stime from /proc), which a busy machine inflates less than wall time but does not leave untouched (cache, frequency).`,
  );
  L.push(
    `- Versions: Node ${versions.node}, ffmpeg ${versions.ffmpeg}, nginx ${versions.nginx}, Redis ${versions.redis}, hlsdump ${versions.hlsdump}.`,
  );
  L.push(
    `- Origin: ffmpeg's HLS muxer, live (\`-re\`), \`-stream_loop -1 -c copy\` of a 12 s ladder encoded once (x264 ultrafast CBR with filler: ${REAL_LADDER.map((r) => `${r.name} ${r.kbps / 1000} Mbit/s`).join(', ')}; AAC ${LADDER_AUDIO.kbps} kbit/s), ${options.segmentType === 'fmp4' ? 'fMP4' : 'MPEG-TS'} segments of ${SEGMENT_SECONDS} s, \`-hls_flags delete_segments+independent_segments+program_date_time\`, a master playlist with the three video renditions in one audio group: ${renditions} renditions. Served by Debian's nginx (playlists gzipped, keep-alive). The origin ffmpeg spent ${fmt(cpu('origin'))} CPU s and nginx ${fmt(cpu('nginx'))} CPU s in the window. Measured stream rate (the loop's bytes): ${fmt(originBitrate, 2)} Mbit/s.`,
  );
  L.push(
    '- Recorders, same streams, same window: **hlsdump** (one worker process; Redis and a gateway beside it, their CPU reported apart; started through the REST API with `playlist: [master.m3u8]`), **the simplest loop** (`test/support/simple-hls-copy.ts`: polls each media playlist every half target duration, GETs each new segment with node:http keep-alive and pipes it to a file; no retries, no chunklist, no registry), **ffmpeg** `-i master.m3u8 -map … -c copy -f hls` (remuxes every rendition to its own HLS output).',
  );
  L.push(
    '- MB = 10⁶ bytes of media files (segments and init segments) each recorder added to its folder during the window; CPU s = utime + stime of its process during the window.',
    '',
  );
  L.push('## Figures', '');
  L.push(
    '| Recorder | CPU s in window | MB written | MB per CPU s | CPU s per media-hour per rendition | RSS at end |',
  );
  L.push('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    L.push(
      `| ${r.label} | ${fmt(r.cpu)} | ${fmt(r.mb, 1)} | ${fmt(r.mbPerCpuS, 1)} | ${fmt(r.cpuPerMediaHour, 2)} | ${fmt(r.rssMb, 0)} MB |`,
    );
  L.push('');
  L.push(
    `- Around the worker: gateway ${fmt(cpu('gateway'))} CPU s, Redis ${fmt(cpu('redis'))} CPU s in the window (hlsdump worker + gateway + Redis: ${fmt(hlsdump.mb / (hlsdump.cpu + cpu('gateway') + cpu('redis')), 1)} MB per CPU s).`,
  );
  L.push(`- CPU s by thread in the window: worker ${threads.worker}; loop ${threads.loop}.`);
  const busyMb = hlsdump.mb / (hlsdump.cpu - idleCpuPerS * wallS);
  L.push(
    `- The worker with no dump (measured ${options.idle} s before the start): ${fmt(idleCpuPerS * 1000, 1)} ms CPU per second, i.e. ${fmt(idleCpuPerS * wallS)} CPU s of the window's ${fmt(hlsdump.cpu)} would be spent with nothing to record. Without it: ${fmt(busyMb, 1)} MB per CPU s (${fmt((busyMb / simple.mbPerCpuS) * 100, 0)} % of the loop's).`,
  );
  L.push(
    `- hlsdump / loop, MB per CPU s: **${fmt(ratio * 100, 0)} %** (target ≥ ${TARGET_RATIO * 100} %): **${ratio >= TARGET_RATIO ? 'met' : 'missed'}**.`,
  );
  L.push(
    `- hlsdump / ffmpeg, CPU per media-hour: ×${fmt(hlsdump.cpuPerMediaHour / ff.cpuPerMediaHour)}; loop / ffmpeg: ×${fmt(simple.cpuPerMediaHour / ff.cpuPerMediaHour)}.`,
  );
  L.push('');
  L.push('## Checks', '');
  L.push(
    `- hlsdump copy against the origin's files, byte for byte: ${hlsdumpCheck.equal} equal, ${hlsdumpCheck.different.length} different${hlsdumpCheck.different.length ? ` (${hlsdumpCheck.different.slice(0, 10).join(', ')})` : ''}, ${hlsdumpCheck.missingAtOrigin.length} no longer at the origin${hlsdumpCheck.missingAtOrigin.length ? ` (${hlsdumpCheck.missingAtOrigin.slice(0, 10).join(', ')})` : ''}.`,
  );
  L.push(
    `- The loop's copy, likewise: ${loopCheck.equal} equal, ${loopCheck.different.length} different, ${loopCheck.missingAtOrigin.length} no longer at the origin.${loopTotals ? ` Its own count: ${loopTotals.segments} segments, ${loopTotals.errors} failed requests.` : ''}`,
  );
  const perRendition = (finalStatus ?? statusBefore.dump)?.renditions ?? [];
  L.push(
    `- hlsdump's status at the end: ${finalStatus?.status ?? 'unknown'}, ${perRendition.map((r) => `${r.chunklist} ${r.segments} segments`).join(', ')}, gaps ${finalStatus?.gaps ?? 'n/a'}; stop answered ${stop.status}.`,
  );
  L.push(`- Exits: loop ${loopExit}, ffmpeg ${ffmpegExit}.`);
  if (gc)
    L.push(
      `- Garbage collections over each process's whole life (--trace-gc): worker ${gc.worker}; loop ${gc.loop}.`,
    );
  if (ffmpegExit !== 'SIGINT' && ffmpegExit !== '0' && ffmpegExit !== '255')
    L.push(
      `- ffmpeg's last words: ${(ffmpeg as ChildProcess & { stderrTail(): string }).stderrTail().trim().slice(-400)}`,
    );
  if (profile) {
    const ms = (us: number): string => fmt(us / 1000, 0);
    const share = (us: number, of: number): string => `${fmt((us / of) * 100, 1)} %`;
    const { window, idle } = profile;
    L.push('', '## Worker CPU profile', '');
    L.push(
      `\`--cpu-prof --cpu-prof-interval=5000\` on the worker (through \`workerNodeArgs\`); the samples of the measured window only, idle samples left out: ${ms(window.busyUs)} ms busy (the /proc figure for the window: ${fmt(hlsdump.cpu * 1000, 0)} ms; the profiler's own cost and native threads make the difference). The profiler costs CPU: the figures above come from a run made with it.`,
      '',
    );
    L.push('| Where (window) | self ms | share of busy |', '| --- | --- | --- |');
    for (const [area, us] of window.areas)
      L.push(`| ${area} | ${ms(us)} | ${share(us, window.busyUs)} |`);
    L.push('', '| Function (window, self time) | self ms | share of busy |', '| --- | --- | --- |');
    for (const [fn, us] of window.functions)
      L.push(`| \`${fn.replace(/\|/g, '\\|')}\` | ${ms(us)} | ${share(us, window.busyUs)} |`);
    L.push(
      '',
      `The idle worker (${options.idle} s before the dump started): ${ms(idle.busyUs)} ms busy.`,
      '',
      '| Function (idle worker, self time) | self ms | share of busy |',
      '| --- | --- | --- |',
    );
    for (const [fn, us] of idle.functions)
      L.push(`| \`${fn.replace(/\|/g, '\\|')}\` | ${ms(us)} | ${share(us, idle.busyUs)} |`);
  }
  L.push('');
  await mkdir(join(options.results, '..'), { recursive: true });
  await writeFile(options.results, L.join('\n'));
  log(`written ${options.results}`);
  console.log(L.join('\n'));
}

await main();
