// The gateway's CPU per start and per stop with N calls in flight, builds side by side. Each round
// starts, for each build in turn, a cluster (test/support/cluster.ts: its own Redis, this tree's
// workers, the build's gateway `<tree>/services/gateway/dist/main.js`) on one test origin, then
// fires bursts of N starts at once and, once they are answered, N stops at once, reading the
// gateway's utime + stime (/proc) around each burst. The first burst of a cluster warms it up and
// is not counted. Rounds alternate the builds, so each sees the same machine load.
//
//   node bench/gateway-cpu.ts --rounds 3 --bursts 3 /work/wt/base /work/wt/new
//   node bench/gateway-cpu.ts --profile /tmp/prof        # this tree, the gateway under --cpu-prof
//   node bench/gateway-cpu.ts --monitor                  # also the gateway's Redis commands per call
//   node bench/gateway-cpu.ts --perf /tmp/perf           # `perf record` of the gateway over the bursts
//   node bench/gateway-cpu.ts --gateway-env LOG_LEVEL=warn   # the gateway's environment, amended
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { originsFor, startCluster, type Cluster } from '../test/support/cluster.ts';
import { machineSummary } from '../test/support/machine.ts';
import { cpuSeconds } from '../test/support/proc-stats.ts';
import { summariseProfiles } from './lib/cpu-profile.ts';
import { envOfPairs } from './lib/env-pairs.ts';
import { startOriginProcess } from './lib/origin-host.ts';
import { fmt, ms, summary } from './lib/stats.ts';

const { values: opts, positionals: trees } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    bursts: { type: 'string', default: '3' },
    starts: { type: 'string', default: '100' },
    streams: { type: 'string', default: '8' },
    workers: { type: 'string', default: '2' },
    profile: { type: 'string' },
    monitor: { type: 'boolean', default: false },
    perf: { type: 'string' },
    'gateway-env': { type: 'string', multiple: true, default: [] },
    results: { type: 'string' },
  },
  allowPositionals: true,
});
if (trees.length === 0) trees.push(process.cwd());
const N = Number(opts.starts);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Burst {
  startCpuMs: number;
  stopCpuMs: number;
  startMs: number[];
  stopMs: number[];
  failures: number;
  startCommands?: Record<string, number>;
  stopCommands?: Record<string, number>;
}

const origin = await startOriginProcess();
const streams = Array.from({ length: Number(opts.streams) }, (_, i) => `g${i}`);
await origin.call('add', { app: 'app', streams, spreadMs: 4_000 });
const results = new Map<string, Burst[]>(trees.map((tree) => [tree, []]));
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};
say(`load at start ${loadAverage()}`);
try {
  for (let round = 0; round < Number(opts.rounds); round++) {
    // ABBA: the build that went second goes first in the next round.
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    for (const tree of order) {
      const bursts = await clusterRun(tree, round);
      results.get(tree)!.push(...bursts);
      for (const b of bursts)
        say(
          `round ${round} ${tree}: ${fmt(b.startCpuMs / N, 2)} ms CPU per start, ${fmt(b.stopCpuMs / N, 2)} per stop; ` +
            `start p50/p99 ${ms(summary(b.startMs).p50)}/${ms(summary(b.startMs).p99)} ms, stop ${ms(summary(b.stopMs).p50)}/${ms(summary(b.stopMs).p99)} ms` +
            `${b.failures ? `, ${b.failures} failed` : ''} (load ${loadAverage()})`,
        );
    }
  }
} finally {
  await origin.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
for (const [tree, bursts] of results) {
  const perStart = bursts.map((b) => b.startCpuMs / N);
  const perStop = bursts.map((b) => b.stopCpuMs / N);
  say(
    `${tree}: median ${fmt(median(perStart), 2)} ms CPU per start [${perStart.map((v) => fmt(v, 2)).join(', ')}], ` +
      `${fmt(median(perStop), 2)} per stop [${perStop.map((v) => fmt(v, 2)).join(', ')}]; ` +
      `start p99 median ${ms(median(bursts.map((b) => summary(b.startMs).p99 ?? NaN)))} ms, stop p99 median ${ms(median(bursts.map((b) => summary(b.stopMs).p99 ?? NaN)))} ms`,
  );
  const commands = bursts.find((b) => b.startCommands);
  if (commands)
    say(
      `${tree}: gateway Redis commands per start ${perCall(commands.startCommands!)}; per stop ${perCall(commands.stopCommands!)}`,
    );
}
if (opts.results)
  appendFileSync(
    opts.results,
    [
      `## Gateway CPU per start and stop, ${N} in flight (${new Date().toISOString()})`,
      '',
      `Machine: ${machineSummary()}.`,
      `Command: node bench/gateway-cpu.ts ${process.argv.slice(2).join(' ')}`,
      '',
      '```',
      ...lines,
      '```',
      '',
    ].join('\n'),
  );

function perCall(counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const top = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmt(n / N, 2)}`)
    .join(', ');
  return `${fmt(total / N, 2)} (${top})`;
}

async function clusterRun(tree: string, round: number): Promise<Burst[]> {
  const profileDir = opts.profile && join(opts.profile, `${round}-${tree.replaceAll('/', '_')}`);
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const cluster = await startCluster({
    workers: 0,
    origins: originsFor(origin.url),
    timeouts: 'shipped',
    gatewayMain: join(tree, 'services/gateway/dist/main.js'),
    gatewayEnv: {
      START_TIMEOUT_MS: '30000',
      STOP_TIMEOUT_MS: '30000',
      ...envOfPairs(opts['gateway-env']),
    },
    gatewayNodeArgs: [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...(opts.perf ? ['--perf-basic-prof'] : []),
    ],
  });
  try {
    for (let w = 0; w < Number(opts.workers); w++)
      await cluster.addWorker({ WORKER_CONCURRENCY: String(N + streams.length) });
    const bursts: Burst[] = [];
    let perf: ReturnType<typeof spawn> | undefined;
    for (let burst = 0; burst <= Number(opts.bursts); burst++) {
      // CPU-clock samples of the gateway, kernel included, over the counted bursts only.
      if (burst === 1 && opts.perf)
        perf = spawn(
          'perf',
          [
            'record',
            '-F',
            '2000',
            '-g',
            '-p',
            String(cluster.gateway.pid),
            '-o',
            `${opts.perf}-${round}-${tree.replaceAll('/', '_')}.data`,
          ],
          { stdio: 'ignore' },
        );
      const measured = await fire(cluster, `r${round}b${burst}`);
      if (burst > 0) bursts.push(measured);
    }
    if (perf) {
      const exited = new Promise((resolve) => perf.once('exit', resolve));
      perf.kill('SIGINT');
      await exited;
    }
    if (profileDir) {
      await cluster.gateway.terminate();
      const profile = await summariseProfiles(profileDir, 30);
      say(`profile ${profileDir}: ${fmt(profile.busyMs, 0)} ms busy`);
      for (const p of profile.packages.slice(0, 12))
        say(`  package ${fmt(p.share * 100, 1)}% ${fmt(p.ms, 0)} ms ${p.name}`);
      for (const f of profile.functions)
        say(`  function ${fmt(f.share * 100, 1)}% ${fmt(f.ms, 0)} ms ${f.name}`);
    }
    return bursts;
  } finally {
    await cluster.close();
  }
}

async function fire(cluster: Cluster, tag: string): Promise<Burst> {
  const dumps = Array.from({ length: N }, (_, i) => {
    const stream = streams[i % streams.length]!;
    const outputPath = join(cluster.outputRoot, stream, `${tag}-${i}`);
    return { stream, id: `${tag}-${i}`, outputPath, infoFile: join(outputPath, 'info.xml') };
  });
  const gatewayPid = cluster.gateway.pid;
  const watch = opts.monitor ? monitor(cluster) : undefined;
  const c0 = cpuSeconds(gatewayPid) ?? 0;
  const starts = await Promise.all(
    dumps.map((d) => timed(() => cluster.startDump({ ...d, app: 'app' }))),
  );
  const c1 = cpuSeconds(gatewayPid) ?? 0;
  const startCommands = watch && (await watch.counts());
  await sleep(1_000);
  const watchStops = opts.monitor ? monitor(cluster) : undefined;
  const c2 = cpuSeconds(gatewayPid) ?? 0;
  const stops = await Promise.all(
    dumps.map((d) => timed(() => cluster.stopDump({ stream: d.stream, app: 'app', id: d.id }))),
  );
  const c3 = cpuSeconds(gatewayPid) ?? 0;
  const stopCommands = watchStops && (await watchStops.counts());
  await sleep(500);
  const failed = [...starts, ...stops].filter((r) => r.status !== 200);
  if (failed[0]) console.log(`${tag}: ${failed.length} failed, first ${failed[0].status}`);
  return {
    startCpuMs: (c1 - c0) * 1000,
    stopCpuMs: (c3 - c2) * 1000,
    startMs: starts.map((r) => r.ms),
    stopMs: stops.map((r) => r.ms),
    failures: failed.length,
    ...(startCommands && { startCommands }),
    ...(stopCommands && { stopCommands }),
  };
}

async function timed(
  call: () => Promise<{ status: number }>,
): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const { status } = await call();
  return { status, ms: performance.now() - t0 };
}

/**
 * Redis MONITOR while a burst runs; `counts()` ends it and counts the commands that came from the
 * gateway's own connections (its sockets to Redis, from `ss`), by name.
 */
function monitor(cluster: Cluster): { counts(): Promise<Record<string, number>> } {
  const port = new URL(cluster.redis.url).port;
  const child = spawn('redis-cli', ['-p', port, 'monitor'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    async counts() {
      await sleep(200);
      child.kill('SIGTERM');
      const sockets = execFileSync(
        'ss',
        ['-tnpH', 'state', 'established', `( dport = :${port} )`],
        {
          encoding: 'utf8',
        },
      );
      const ports = new Set(
        sockets
          .split('\n')
          .filter((line) => line.includes(`pid=${cluster.gateway.pid},`))
          .map((line) => /:(\d+)\s+\S+:\d+/.exec(line)?.[1]),
      );
      const counts: Record<string, number> = {};
      for (const line of text.split('\n')) {
        // 1700000000.123456 [0 127.0.0.1:54321] "evalsha" "..." / [0 lua] for a script's own calls
        const match = /\[\d+ [^\]]*:(\d+)\] "([^"]+)"/.exec(line);
        if (!match || !ports.has(match[1])) continue;
        const name = match[2]!.toLowerCase();
        counts[name] = (counts[name] ?? 0) + 1;
      }
      return counts;
    },
  };
}
