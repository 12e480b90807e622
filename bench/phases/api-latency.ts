// Phase `api`: N starts in flight at once, then N stops at once, as bursts on the same cluster: the
// first on processes that have not yet served a burst (reported apart as the cold burst), then
// --api-bursts more whose starts and stops are pooled for the target; the origin's own answer time
// under the same concurrency beside them, and where the time goes from the services' log timestamps.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRun, ClusterContext } from '../bench-run.ts';
import type { ClusterWorker } from '../../test/support/cluster.ts';
import type { BenchDump } from '../lib/dump-files.ts';
import { breakdown, type Breakdown } from '../lib/log-breakdown.ts';
import { masterUrlOf, type OriginHost } from '../lib/origin-host.ts';
import { cpuSeconds, totalCpu } from '../../test/support/proc-stats.ts';
import { fmt, ms, summary, type Summary } from '../lib/stats.ts';
import type { Section } from '../report.ts';

/** One burst: N starts at once, 5 s of recording, N stops at once. */
interface Burst {
  startMs: number[];
  stopMs: number[];
  startFailures: number;
  stopFailures: number;
  startWallS: number;
  stopWallS: number;
  /** CPU seconds the workers spent while the starts were answered (and while the stops were). */
  workerCpu: { starts: number; stops: number };
  /** CPU seconds the gateway and Redis spent on the starts (and on the stops). */
  gatewayCpu: { starts: number; stops: number };
  redisCpu: { starts: number; stops: number };
}

export interface ApiLatencyResult {
  N: number;
  origin: Summary;
  /** 3 × the origin's p50: what a start waits on at the origin (probe, master, chunklists). */
  originPathMs: number;
  cold: Burst;
  warm: Burst[];
  coldPhases: Breakdown | { error: string };
  warmPhases: Breakdown | { error: string };
}

export async function runApiLatency(
  run: BenchRun,
  cluster: ClusterContext,
  workers: ClusterWorker[],
): Promise<ApiLatencyResult> {
  const { origin, mainStreams } = cluster;
  const N = run.options.apiStarts;
  const bursts: { dumps: BenchDump[]; burst: Burst }[] = [];
  // The origin's own time for what a start waits on: the gateway's probe of the master, the worker's
  // master and then its chunklists (three round trips in sequence), under the same concurrency.
  const originMs = await originAnswerTimes(origin, mainStreams, N);
  for (let b = 0; b <= run.options.apiBursts; b++) {
    const dumps = Array.from({ length: N }, (_, i) =>
      run.dumpSpec(mainStreams[i % mainStreams.length]!, `api${b}-${i}`),
    );
    run.log(`api: burst ${b}${b === 0 ? ' (cold)' : ''}: ${N} starts in flight, then ${N} stops`);
    bursts.push({ dumps, burst: await runBurst(run, workers, dumps) });
    await sleep(2_000);
  }
  await sleep(500); // the services' log lines reach their files
  const phasesOf = (dumps: BenchDump[]) =>
    breakdown(run.dir, dumps).catch((e: unknown) => ({ error: String(e) }));
  return {
    N,
    origin: originMs,
    originPathMs: 3 * (originMs.p50 ?? 0),
    cold: bursts[0]!.burst,
    warm: bursts.slice(1).map((b) => b.burst),
    coldPhases: await phasesOf(bursts[0]!.dumps),
    warmPhases: await phasesOf(bursts.slice(1).flatMap((b) => b.dumps)),
  };
}

async function runBurst(
  run: BenchRun,
  workers: ClusterWorker[],
  dumps: BenchDump[],
): Promise<Burst> {
  const N = dumps.length;
  const gatewayPid = run.cluster.gateway.pid;
  const redisPid = run.cluster.redis.process?.pid;
  const workersCpu = () => totalCpu(workers.map((w) => w.pid));
  const w0 = workersCpu();
  const g0 = cpuSeconds(gatewayPid) ?? 0;
  const r0 = cpuSeconds(redisPid) ?? 0;
  const t0 = Date.now();
  const starts = await run.startDumps(dumps, N);
  const startWallS = (Date.now() - t0) / 1000;
  const g1 = cpuSeconds(gatewayPid) ?? 0;
  const r1 = cpuSeconds(redisPid) ?? 0;
  const w1 = workersCpu();
  await sleep(5_000);
  const g2 = cpuSeconds(gatewayPid) ?? 0;
  const r2 = cpuSeconds(redisPid) ?? 0;
  const w2 = workersCpu();
  const t1 = Date.now();
  const stops = await run.stopDumps(dumps, N);
  const stopWallS = (Date.now() - t1) / 1000;
  const g3 = cpuSeconds(gatewayPid) ?? 0;
  const r3 = cpuSeconds(redisPid) ?? 0;
  const w3 = workersCpu();
  const startMs = starts.filter((r) => r.status === 200).map((r) => r.ms);
  const stopMs = stops.filter((r) => r.status === 200).map((r) => r.ms);
  dumps.forEach((d, i) => Object.assign(d, { startMs: starts[i]!.ms, stopMs: stops[i]!.ms }));
  return {
    startMs,
    stopMs,
    startFailures: starts.length - startMs.length,
    stopFailures: stops.length - stopMs.length,
    startWallS,
    stopWallS,
    workerCpu: { starts: w1 - w0, stops: w3 - w2 },
    gatewayCpu: { starts: g1 - g0, stops: g3 - g2 },
    redisCpu: { starts: r1 - r0, stops: r3 - r2 },
  };
}

async function originAnswerTimes(
  origin: OriginHost,
  streams: string[],
  n: number,
): Promise<Summary> {
  const urls = Array.from({ length: n }, (_, i) =>
    masterUrlOf(origin, streams[i % streams.length]!),
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

const perCall = (cpuS: number, n: number) => fmt((cpuS * 1000) / n, 1);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function apiLatencySection(a: ApiLatencyResult, workers: number): Section {
  const exOrigin = (xs: number[]) => xs.map((x) => x - a.originPathMs);
  const warmStarts = a.warm.flatMap((b) => b.startMs);
  const warmStops = a.warm.flatMap((b) => b.stopMs);
  const warmStartsEx = summary(exOrigin(warmStarts));
  const warmStopsS = summary(warmStops);
  const row = (label: string, b: Pick<Burst, 'startMs' | 'stopMs'>, failures: string) => {
    const s = summary(b.startMs);
    const x = summary(exOrigin(b.startMs));
    const t = summary(b.stopMs);
    return `| ${label} | ${ms(s.p50)} / ${ms(s.p99)} | ${ms(x.p50)} / ${ms(x.p99)} | ${ms(t.p50)} / ${ms(t.p99)} | ${failures} |`;
  };
  const failures = (b: Burst) => `${b.startFailures} / ${b.stopFailures}`;
  const L = [
    `### API latency, ${a.N} starts in flight then ${a.N} stops in flight`,
    '',
    `One cold burst (the first the gateway and the ${workers} workers serve: code not yet optimised by V8, connections and pools not yet grown), then ${a.warm.length} bursts on the same processes, pooled for the target. The origin alone answers ${a.N} GETs of a master in flight in p50 / p99 ${ms(a.origin.p50)} / ${ms(a.origin.p99)} ms; a start waits on three such answers in sequence (the gateway's probe, the worker's master, its chunklists), so ${ms(a.originPathMs)} ms are subtracted.`,
    '',
    '| Burst | start p50 / p99 ms | start minus the origin p50 / p99 | stop p50 / p99 ms | failures (start / stop) |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('cold', a.cold, failures(a.cold)),
    ...a.warm.map((b, i) => row(`warm ${i + 1}`, b, failures(b))),
    row(
      `warm, pooled (${warmStarts.length} starts)`,
      { startMs: warmStarts, stopMs: warmStops },
      `${sum(a.warm.map((b) => b.startFailures))} / ${sum(a.warm.map((b) => b.stopFailures))}`,
    ),
    '',
    '| CPU per call, ms (burst: cold / warm mean) | start | stop |',
    '| --- | ---: | ---: |',
  ];
  const cpuRow = (name: string, f: (b: Burst) => { starts: number; stops: number }) => {
    const warm = (k: 'starts' | 'stops') => sum(a.warm.map((b) => f(b)[k])) / a.warm.length;
    L.push(
      `| ${name} | ${perCall(f(a.cold).starts, a.N)} / ${perCall(warm('starts'), a.N)} | ${perCall(f(a.cold).stops, a.N)} / ${perCall(warm('stops'), a.N)} |`,
    );
  };
  cpuRow(`workers (${workers}; the dumps already recording included)`, (b) => b.workerCpu);
  cpuRow('gateway', (b) => b.gatewayCpu);
  cpuRow('Redis', (b) => b.redisCpu);
  const meanWall = (k: 'startWallS' | 'stopWallS') => sum(a.warm.map((b) => b[k])) / a.warm.length;
  L.push(
    '',
    `Every start answered in ${fmt(a.cold.startWallS, 2)} s cold, ${fmt(meanWall('startWallS'), 2)} s warm (mean); every stop in ${fmt(a.cold.stopWallS, 2)} / ${fmt(meanWall('stopWallS'), 2)} s. A gateway whose CPU over a burst approaches its wall time was the bottleneck: one event loop answers every call.`,
    '',
  );
  const { coldPhases: cold, warmPhases: warm } = a;
  if (!('error' in cold) && !('error' in warm)) {
    L.push(
      "Where the time goes (from the services' pino log timestamps, ms):",
      '',
      '| Step | cold p50 / p99 | warm p50 / p99 / max |',
      '| --- | ---: | ---: |',
    );
    const steps = (p: Breakdown) => [
      ...p.start.map(([n, v]) => [`start: ${n}`, v] as const),
      ...p.stop.map(([n, v]) => [`stop: ${n}`, v] as const),
    ];
    const coldSteps = new Map(steps(cold));
    for (const [name, x] of steps(warm)) {
      const c = coldSteps.get(name);
      L.push(
        `| ${name} | ${ms(c?.p50)} / ${ms(c?.p99)} | ${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.max)} |`,
      );
    }
    L.push('');
  }
  return {
    lines: L,
    targets: [
      {
        name: `Start p99 ≤ 300 ms and stop p99 ≤ 200 ms with ${a.N} in flight (excl. origin; ${a.warm.length} warm bursts pooled)`,
        measured: `start p99 ${ms(warmStartsEx.p99)} ms (raw ${ms(summary(warmStarts).p99)}), stop p99 ${ms(warmStopsS.p99)} ms; cold burst: start ${ms(summary(exOrigin(a.cold.startMs)).p99)}, stop ${ms(summary(a.cold.stopMs).p99)} ms`,
        met: (warmStartsEx.p99 ?? Infinity) <= 300 && (warmStopsS.p99 ?? Infinity) <= 200,
      },
    ],
  };
}
