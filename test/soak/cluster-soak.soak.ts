/**
 * The soak: a cluster of worker processes records live streams for a simulated day (the test
 * origin's clock runs ×SOAK_SPEED) while a worker that owns dumps is SIGKILLed at random every
 * few real minutes and restarted once its dumps run elsewhere. At the end every dump is stopped
 * through the API and checked against the origin: segments expected vs written, duplicates,
 * gaps (the status's count against the chunklists' missing MSNs), bytes, infoFile. Memory of
 * every worker incarnation is sampled from /proc throughout. The figures are appended to
 * bench/results/soak.md and printed.
 *
 * Not part of CI: `npm run soak` (parameters and defaults in bench/README.md, "Soak").
 */
import { existsSync } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { createTestOrigin, seededRandom, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, expect, it } from 'vitest';
import type { Cluster } from '../support/cluster.js';

import { runKillLoop } from './kill-loop.js';
import { countWarnings, saveProcessLogs } from './process-logs.js';
import { hms } from './soak-format.js';
import { LOOP_DEADLINE_S, P, PLANNED_REAL_S, TEST_TIMEOUT_MS } from './soak-params.js';
import { soakReport } from './soak-report.js';
import { note, soakDirs, startSoakCluster, startSoakedDumps, type SoakRun } from './soak-run.js';
import { SoakSampler } from './soak-sampler.js';
import { stopSoakedDumps } from './stop-soaked.js';
import { verifySoakedDumps } from './verify-soaked.js';
import { WorkerIncarnations } from './worker-incarnations.js';

let origin: TestOrigin | undefined;
let cluster: Cluster | undefined;

afterAll(async () => {
  await cluster?.close();
  await origin?.close();
});

it(
  `soak: ${P.workers} workers, ${P.dumps} dumps, ${P.mediaHours} media h at ×${P.speed}, a kill every ~${P.killEveryS} s`,
  async () => {
    // Set up: the origin with its fast clock, the cluster, one dump per stream.
    const random = seededRandom(P.seed);
    const dirs = await soakDirs();
    note(
      `params ${JSON.stringify({ ...P, plannedRealS: Math.round(PLANNED_REAL_S), deadlineS: Math.round(LOOP_DEADLINE_S) })} dir ${dirs.run}`,
    );
    const o = (origin = await createTestOrigin({ speed: P.speed }));
    const c = (cluster = await startSoakCluster(o, dirs));
    const incarnations = new WorkerIncarnations();
    for (const worker of c.workers) incarnations.open(worker);
    const cpuAtStart = process.cpuUsage();
    const soaked = await startSoakedDumps(o, c, dirs.out);
    const startedMediaS = o.clock.now();
    const run: SoakRun = {
      dirs,
      origin: o,
      cluster: c,
      incarnations,
      soaked,
      startedMs: Date.now(),
      mediaElapsed: () => o.clock.now() - startedMediaS,
      problems: [],
      note,
    };
    const { problems, startedMs } = run;
    note(
      `${P.dumps} dumps started on ${P.workers} workers; origin window ${P.windowSegments} segments`,
    );

    // Record the simulated time, killing a worker that owns dumps every few minutes.
    const sampler = new SoakSampler(run);
    const { kills, deadlineHit } = await runKillLoop(run, sampler, random);
    const loopEndMs = Date.now();
    const mediaAtStopS = run.mediaElapsed();
    await sampler.timelineRow();
    note(
      `simulated ${hms(mediaAtStopS)} in ${hms((loopEndMs - startedMs) / 1000)}; stopping ${P.dumps} dumps`,
    );

    // Stop every dump through the API; the last samples.
    await stopSoakedDumps(run);
    await sampler.stop();
    for (const worker of c.workers) {
      const inc = incarnations.of(worker.id);
      if (inc) incarnations.sample(inc);
    }
    const realS = (Date.now() - startedMs) / 1000;
    const testCpu = process.cpuUsage(cpuAtStart);
    await saveProcessLogs(c, dirs.logs);
    const warnings = countWarnings(c);

    // Check every dump against the origin.
    note('verifying the dumps against the origin');
    const { renditionChecks, infoChecks } = await verifySoakedDumps(soaked, kills, problems);
    const incomplete = kills.filter((k) => k.dumps.some((s) => k.failoverMs[s] === undefined));
    if (kills.length === 0)
      problems.push('no worker was killed: raise SOAK_MEDIA_HOURS or lower SOAK_KILL_EVERY_S');

    // The report, appended to the results file.
    const section = soakReport({
      cluster: c,
      soaked,
      kills,
      incomplete,
      incarnations: incarnations.all,
      sampler,
      renditionChecks,
      infoChecks,
      warnings,
      problems,
      startedMs,
      mediaAtStopS,
      realS,
      deadlineHit,
      testCpu,
      logDir: dirs.logs,
      outDir: dirs.out,
    });
    if (!existsSync(P.results))
      await writeFile(
        P.results,
        '# Soak runs\n\nAppended by `npm run soak` (`test/soak/cluster-soak.soak.ts`; how to run it: `bench/README.md`, "Soak"). One section per run, newest last.\n\n',
      );
    await appendFile(P.results, section);
    console.log(`\n${section}`);
    note(`appended to ${P.results}`);

    if (!P.keep && problems.length === 0) await rm(dirs.out, { recursive: true, force: true });
    expect(problems, `soak problems (logs in ${dirs.logs})`).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);
