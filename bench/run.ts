// hlsdump's benchmark suite: one run, this machine, every figure side by side.
//
//   npm run bench                       # defaults: a few minutes on 2 cores
//   npm run bench -- --preset full      # the long run (see bench/README.md)
//   node bench/run.ts --streams 8 --workers 2 --seconds 60 --skip info,memory
//
// Starts its own Redis, the test origin (its own process), the gateway and W workers (real
// processes), drives OME's REST API, records ffmpeg peers on the same streams, and appends a section
// to bench/results/hlsdump-bench.md. Every phase is bounded in time; the run stops by itself.
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originsFor, startCluster } from '../test/support/cluster.ts';
import { machine } from '../test/support/machine.ts';
import { BenchRun, type ClusterContext } from './bench-run.ts';
import { startOriginProcess } from './lib/origin-host.ts';
import { workerBuildOf } from './lib/worker-build.ts';
import { apiLatencySection, runApiLatency } from './phases/api-latency.ts';
import { capacitySection, runCapacity } from './phases/capacity.ts';
import { infoFileSection, runInfoFile } from './phases/info-file.ts';
import { limitSection, runLimit } from './phases/limit.ts';
import { memorySection, runMemory } from './phases/memory.ts';
import { runSideBySide, sideBySideSection, type SideBySideResult } from './phases/side-by-side.ts';
import { buildReport, type Section } from './report.ts';
import { defaultResultsFile, parseRunOptions, workersA } from './run-options.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

const options = parseRunOptions(process.argv.slice(2), defaultResultsFile(BENCH_DIR));
if (options !== undefined) await main(await BenchRun.create(options));

async function main(run: BenchRun): Promise<void> {
  const { options } = run;
  const host = machine();
  // A hard bound on the whole run: the bench stops by itself whatever happens.
  const hardTimer = setTimeout(() => {
    run.log(`hard time limit of ${options.hardLimitS} s reached: cleaning up`);
    void run.cleanup().finally(() => process.exit(3));
  }, options.hardLimitS * 1000);
  hardTimer.unref();
  try {
    run.log(
      `run dir ${run.dir}; options ${JSON.stringify({ ...options, skip: [...options.skip] })}`,
    );
    const sections: Section[] = [];
    if (!options.skip.has('info')) sections.push(infoFileSection(await runInfoFile(run)));
    const clusterPhases = ['main', 'api', 'limit', 'capacity', 'memory'];
    if (clusterPhases.some((p) => !options.skip.has(p)))
      sections.push(...(await clusterSections(run)));
    const section = buildReport(run.started, host, options, sections, run.notes);
    await mkdir(dirname(options.results), { recursive: true });
    await appendFile(options.results, section);
    console.log(section);
    run.log(`appended to ${options.results}`);
  } catch (error) {
    run.log(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exitCode = 1;
  } finally {
    await run.cleanup();
    clearTimeout(hardTimer);
    run.closeLog();
    if (!options.keep && process.exitCode !== 1)
      await rm(run.dir, { recursive: true, force: true });
    else console.log(`kept ${run.dir}`);
  }
}

/** The phases that need the cluster, in order, sharing one origin, Redis and gateway. */
async function clusterSections(run: BenchRun): Promise<Section[]> {
  const { options } = run;
  const originLog = createWriteStream(join(run.dir, 'origin.log'));
  const origin = await startOriginProcess({ speed: options.speed, logFile: originLog });
  run.origins.push(origin);
  const memOrigin = options.skip.has('memory')
    ? undefined
    : await startOriginProcess({ speed: options.memSpeed, logFile: originLog });
  if (memOrigin) run.origins.push(memOrigin);
  run.log(
    `origin ${origin.url} (pid ${origin.pid}, speed ${options.speed})` +
      (memOrigin ? `; memory origin ${memOrigin.url} (speed ${options.memSpeed})` : ''),
  );
  // The memory phase's streams live on a faster-clocked origin under app "mem".
  const origins = originsFor({ app: origin.url, ...(memOrigin ? { mem: memOrigin.url } : {}) });
  // The services as operators run them (shipped timeouts), logging to the run's directory, every
  // worker with the heap probe; workers are added phase by phase.
  run.services = await startCluster({
    workers: 0,
    origins,
    timeouts: 'shipped',
    // 100 starts in flight on a shared machine: the gateway waits longer than it ships with.
    gatewayEnv: {
      OUTPUT_ROOTS: run.outputRoot,
      START_TIMEOUT_MS: '30000',
      STOP_TIMEOUT_MS: '30000',
    },
    logDir: run.dir,
    heapProbeDir: run.probeDir,
  });
  const mainStreams = Array.from({ length: options.streams }, (_, i) => `b${i}`);
  const cluster: ClusterContext = { origin, memOrigin, mainStreams };
  const sections: Section[] = [];
  try {
    await origin.call('add', {
      app: 'app',
      streams: mainStreams,
      options: { windowSegments: options.originWindow },
      spreadMs: run.spreadMs(),
    });
    let main: SideBySideResult | undefined;
    if (!options.skip.has('main') || !options.skip.has('api')) {
      const concurrency = options.apiStarts + options.streams;
      // --profile: these workers too, over their whole life (the api phase's burst included).
      const nodeArgs = [
        ...(options.profile
          ? ['--cpu-prof', `--cpu-prof-dir=${join(run.dir, 'cpu-profile-main')}`]
          : []),
        ...options.workerFlags,
      ];
      // --worker-b-flag, --worker-b-tree: the last workers run with those flags or that build;
      // the main phase reports the two kinds apart.
      const countA = workersA(options);
      const workers = [
        ...(await run.startWorkers(countA, concurrency, nodeArgs)),
        ...(await run.startWorkers(
          options.workers - countA,
          concurrency,
          [...nodeArgs, ...options.workerBFlags],
          options.workerBTree === undefined ? undefined : await workerBuildOf(options.workerBTree),
        )),
      ];
      try {
        if (!options.skip.has('main')) {
          main = await runSideBySide(run, cluster, workers);
          sections.push(sideBySideSection(main, options.warmup));
        }
        if (!options.skip.has('api'))
          sections.push(
            apiLatencySection(await runApiLatency(run, cluster, workers), workers.length),
          );
      } finally {
        await run.stopWorkers(workers);
      }
    }
    const limit = options.skip.has('limit') ? undefined : await runLimit(run, cluster);
    const capacity = options.skip.has('capacity') ? undefined : await runCapacity(run, cluster);
    if (limit) sections.push(limitSection(limit, main, capacity));
    if (capacity) sections.push(capacitySection(capacity));
    if (!options.skip.has('memory')) sections.push(memorySection(await runMemory(run, cluster)));
  } finally {
    await run.services.close();
  }
  return sections;
}
