// Phase `api`: N starts in flight at once, then N stops at once; the origin's own answer time under
// the same concurrency beside them, and where the time goes from the services' log timestamps.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRun, ClusterContext } from '../bench-run.ts';
import type { ClusterWorker } from '../../test/support/cluster.ts';
import { breakdown, type Breakdown } from '../lib/log-breakdown.ts';
import type { OriginHost } from '../lib/origin-host.ts';
import { cpuSeconds, totalCpu } from '../../test/support/proc-stats.ts';
import { fmt, ms, summary, type Summary } from '../lib/stats.ts';
import type { Section } from '../report.ts';

export interface ApiLatencyResult {
  N: number;
  starts: Summary;
  stops: Summary;
  startFailures: number;
  stopFailures: number;
  startWallS: number;
  stopWallS: number;
  origin: Summary;
  startsExOrigin: Summary;
  workerCpu: number;
  /** CPU seconds the workers spent while the starts were answered (and while the stops were). */
  workerBurstCpu: { starts: number; stops: number };
  /** CPU seconds the gateway and Redis spent on the starts (and on the stops). */
  gatewayCpu: { starts: number; stops: number };
  redisCpu: { starts: number; stops: number };
  phases: Breakdown | { error: string };
}

export async function runApiLatency(
  run: BenchRun,
  cluster: ClusterContext,
  workers: ClusterWorker[],
): Promise<ApiLatencyResult> {
  const { origin, mainStreams } = cluster;
  const N = run.options.apiStarts;
  const dumps = Array.from({ length: N }, (_, i) =>
    run.dumpSpec(mainStreams[i % mainStreams.length]!, `api${i}`),
  );
  run.log(`api: ${N} starts in flight, then ${N} stops in flight`);
  // The origin's own time for what a start waits on: the gateway's probe of the master, the worker's
  // master and then its chunklists (three round trips in sequence), under the same concurrency.
  const originMs = await originAnswerTimes(origin, mainStreams, N);
  const workerCpu0 = totalCpu(workers.map((w) => w.pid));
  const gatewayPid = run.cluster.gateway.pid;
  const redisPid = run.cluster.redis.process?.pid;
  const g0 = cpuSeconds(gatewayPid) ?? 0;
  const r0 = cpuSeconds(redisPid) ?? 0;
  const workersCpu = () => totalCpu(workers.map((w) => w.pid));
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
  const workerCpu = w3 - workerCpu0;
  const startMs = starts.filter((r) => r.status === 200).map((r) => r.ms);
  const stopMs = stops.filter((r) => r.status === 200).map((r) => r.ms);
  dumps.forEach((d, i) => Object.assign(d, { startMs: starts[i]!.ms, stopMs: stops[i]!.ms }));
  await sleep(500); // the services' log lines reach their files
  const phases = await breakdown(run.dir, dumps).catch((e: unknown) => ({ error: String(e) }));
  const originPath = 3 * (originMs.p50 ?? 0);
  return {
    N,
    starts: summary(startMs),
    stops: summary(stopMs),
    startFailures: starts.length - startMs.length,
    stopFailures: stops.length - stopMs.length,
    startWallS,
    stopWallS,
    origin: originMs,
    startsExOrigin: summary(startMs.map((x) => x - originPath)),
    workerCpu,
    workerBurstCpu: { starts: w1 - workerCpu0, stops: w3 - w2 },
    gatewayCpu: { starts: g1 - g0, stops: g3 - g2 },
    redisCpu: { starts: r1 - r0, stops: r3 - r2 },
    phases,
  };
}

async function originAnswerTimes(
  origin: OriginHost,
  streams: string[],
  n: number,
): Promise<Summary> {
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

export function apiLatencySection(a: ApiLatencyResult, workers: number): Section {
  const L = [
    `### API latency, ${a.N} starts in flight then ${a.N} stops in flight`,
    '',
    '| Call | p50 ms | p99 ms | max ms | failures | all answered in |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| start | ${ms(a.starts.p50)} | ${ms(a.starts.p99)} | ${ms(a.starts.max)} | ${a.startFailures} | ${fmt(a.startWallS, 1)} s |`,
    `| start minus the origin's own answers (3 × origin p50) | ${ms(a.startsExOrigin.p50)} | ${ms(a.startsExOrigin.p99)} | ${ms(a.startsExOrigin.max)} | | |`,
    `| stop | ${ms(a.stops.p50)} | ${ms(a.stops.p99)} | ${ms(a.stops.max)} | ${a.stopFailures} | ${fmt(a.stopWallS, 1)} s |`,
    `| the origin alone: ${a.N} GETs of a master in flight | ${ms(a.origin.p50)} | ${ms(a.origin.p99)} | ${ms(a.origin.max)} | | |`,
    '',
    `- Worker CPU during the burst (starts, 5 s running, stops): ${fmt(a.workerCpu, 1)} s over ${workers} workers.`,
    `- Worker CPU while the starts were answered: ${fmt(a.workerBurstCpu.starts, 2)} s (${fmt((a.workerBurstCpu.starts * 1000) / a.N, 1)} ms per start, the dumps already started recording included); while the stops were: ${fmt(a.workerBurstCpu.stops, 2)} s (${fmt((a.workerBurstCpu.stops * 1000) / a.N, 1)} ms per stop).`,
    `- Gateway CPU while the starts were answered: ${fmt(a.gatewayCpu.starts, 2)} s in ${fmt(a.startWallS, 2)} s (${fmt((a.gatewayCpu.starts * 1000) / a.N, 1)} ms per start), Redis ${fmt(a.redisCpu.starts, 2)} s; while the stops were: gateway ${fmt(a.gatewayCpu.stops, 2)} s in ${fmt(a.stopWallS, 2)} s (${fmt((a.gatewayCpu.stops * 1000) / a.N, 1)} ms per stop), Redis ${fmt(a.redisCpu.stops, 2)} s. A gateway whose CPU over the burst approaches its wall time was the bottleneck: one event loop answers every call.`,
    '',
  ];
  if (!('error' in a.phases)) {
    L.push("Where the time goes (from the services' pino log timestamps, ms):", '');
    L.push('| Step | p50 | p99 | max |', '| --- | ---: | ---: | ---: |');
    const rows = [
      ...a.phases.start.map(([n, v]) => [`start: ${n}`, v] as const),
      ...a.phases.stop.map(([n, v]) => [`stop: ${n}`, v] as const),
    ];
    for (const [name, x] of rows)
      L.push(`| ${name} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} |`);
    L.push('');
  }
  return {
    lines: L,
    targets: [
      {
        name: `Start p99 ≤ 300 ms and stop p99 ≤ 200 ms with ${a.N} in flight (excl. origin)`,
        measured: `start p99 ${ms(a.startsExOrigin.p99)} ms (raw ${ms(a.starts.p99)}), stop p99 ${ms(a.stops.p99)} ms`,
        met: (a.startsExOrigin.p99 ?? Infinity) <= 300 && (a.stops.p99 ?? Infinity) <= 200,
      },
    ],
  };
}
