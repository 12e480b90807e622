// Failover with the shipped defaults, measured: SIGKILL the owner of running dumps again and again
// and time how long until another worker runs each of them; then the Redis load of heartbeats and
// lock renewals while they run. Appends a section to bench/results/failover.md.
//
//   npm run bench:failover                        # 12 kills, 3 workers, 24 dumps: about 4 minutes
//   node bench/failover.ts --kills 20 --dumps 30 --load-seconds 60
//
// Real processes from dist/ (test/support/cluster.ts with the shipped timeouts: an ephemeral Redis,
// the gateway, the workers with their default HEARTBEAT_MS / LOCK_DURATION_MS /
// STALLED_INTERVAL_MS; the test origin in its own process). The origin keeps 6 segments of 4 s (a
// 24 s window) in real time, so a failover that loses a segment shows as a counted gap.
//
//   --results FILE   append there instead (a short trial run)
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DumpRegistry,
  closeRedis,
  createRedisConnection,
  type DumpRecord,
} from '@hlsdump/contracts';
import { originsFor, startCluster, type Cluster } from '../test/support/cluster.ts';
import { machineSummary } from '../test/support/machine.ts';
import { percentile } from '../test/support/percentile.ts';
import { inFlight } from './lib/in-flight.ts';
import { startOriginProcess } from './lib/origin-host.ts';
import { expectedLoad, heartbeatScriptCost, measuredRates } from './lib/redis-load.ts';
import { fmt } from './lib/stats.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const BULLMQ_VERSION = (
  createRequire(join(BENCH_DIR, '..', 'services', 'worker', 'package.json'))(
    'bullmq/package.json',
  ) as { version: string }
).version;
const WINDOW_SEGMENTS = 6; // of 4 s: a 24 s window
const RENDITIONS = 3; // the test origin's: video_0, video_1, audio_0
/** The shipped defaults (services/worker/src/config.ts), repeated here only to compute the load. */
const DEFAULTS = {
  heartbeatMs: 2_000,
  lockDurationMs: 5_000,
  stalledIntervalMs: 2_000,
  concurrency: 50,
};

const { values: opts } = parseArgs({
  options: {
    kills: { type: 'string', default: '12' },
    workers: { type: 'string', default: '3' },
    dumps: { type: 'string', default: '24' },
    streams: { type: 'string', default: '8' },
    'load-seconds': { type: 'string', default: '30' },
    'settle-seconds': { type: 'string', default: '12' },
    results: { type: 'string' },
  },
});
const KILLS = Number(opts.kills);
const WORKERS = Number(opts.workers);
const DUMPS = Number(opts.dumps);
const STREAMS = Number(opts.streams);
const LOAD_SECONDS = Number(opts['load-seconds']);
const SETTLE_SECONDS = Number(opts['settle-seconds']);
const RESULTS_FILE = opts.results ?? join(BENCH_DIR, 'results', 'failover.md');
if (WORKERS < 2) throw new Error('--workers must be at least 2: a killed owner needs a survivor');

// Twelve kills in a few minutes kill some dumps' owners three times in a row, which is what a
// poison dump does: with the default POISON_AFTER_CRASHES those dumps would end in Error, by
// design. The bench measures failover, so the workers get a count they never reach.
const POISON_AFTER_CRASHES = '1000';

const log = (...parts: unknown[]) =>
  console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

// Every process's log lands here; kept when a failover does not complete.
const runDir = await mkdtemp(join(os.tmpdir(), 'hlsdump-failover-'));
const origin = await startOriginProcess({ speed: 1 });
let cluster: Cluster | undefined;
let commands: ReturnType<typeof createRedisConnection> | undefined;
let keepRunDir = false;

async function cleanUp(): Promise<void> {
  if (commands) await closeRedis(commands).catch(() => undefined);
  await cluster?.close();
  await origin.close().catch(() => undefined);
  if (!keepRunDir) await rm(runDir, { recursive: true, force: true });
}

try {
  cluster = await startCluster({
    workers: WORKERS,
    origins: originsFor(origin.url),
    timeouts: 'shipped',
    workerEnv: {
      POISON_AFTER_CRASHES,
      WORKER_CONCURRENCY: String(DEFAULTS.concurrency),
    },
    logDir: runDir,
  });
  const services = cluster;
  commands = createRedisConnection(services.redis.url, { role: 'worker' });
  const redisCommands = commands;
  const registry = new DumpRegistry(redisCommands, { prefix: services.redisPrefix });
  const streams = Array.from({ length: STREAMS }, (_, i) => `live${i}`);
  await origin.call('add', {
    app: 'app',
    streams,
    options: { windowSegments: WINDOW_SEGMENTS },
    spreadMs: 4_000,
  });
  const dumps = Array.from({ length: DUMPS }, (_, i) => ({
    stream: streams[i % STREAMS]!,
    id: `d${i}`,
  }));
  const started = await inFlight(dumps, 8, (d) => services.startDump(d));
  const refused = started.filter((r) => r.status !== 200);
  if (refused[0]) throw new Error(`starts refused: ${JSON.stringify(refused[0].body)}`);
  log(`${DUMPS} dumps running on ${WORKERS} workers`);

  // Redis load: every command Redis ran over a steady window, per second.
  await sleep(8_000);
  await redisCommands.config('RESETSTAT');
  const loadStart = performance.now();
  await sleep(LOAD_SECONDS * 1_000);
  const loadSeconds = (performance.now() - loadStart) / 1_000;
  const { rates, usecPerSecond } = measuredRates(
    await redisCommands.info('commandstats'),
    loadSeconds,
  );
  log('measured Redis load', rates);

  // Kills: the owner of the most dumps, every few seconds (a random phase against the timers).
  const samples: number[] = [];
  const kills: { victim: string; dumps: number; max: number }[] = [];
  const crashCounts = new Map<string, number>();
  for (let k = 1; k <= KILLS; k++) {
    const records = (await registry.list()).filter((r) => r.state === 'Running');
    const byOwner = new Map<string, DumpRecord[]>();
    for (const r of records) byOwner.set(r.owner ?? '', [...(byOwner.get(r.owner ?? '') ?? []), r]);
    const [victimId, owned] = [...byOwner.entries()].sort(
      (a, b) => b[1].length - a[1].length,
    )[0] ?? ['', []];
    const victim = services.workers.find((w) => w.running && w.id === victimId);
    if (!victim) throw new Error(`kill ${k}: no running worker owns a dump (owner ${victimId})`);
    const killedAt = Date.now();
    void victim.kill('SIGKILL');
    const pending = new Set(owned.map((r) => r.dumpKey));
    const failovers: number[] = [];
    const deadline = killedAt + 60_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const dumpKey of pending) {
        const record = await registry.get(dumpKey);
        if (record?.state === 'Running' && record.owner !== victimId && record.runningAt) {
          failovers.push(record.runningAt - killedAt);
          pending.delete(dumpKey);
        }
      }
      await sleep(50);
    }
    if (pending.size > 0) {
      const stuck: (DumpRecord | null)[] = await Promise.all(
        [...pending].map((dumpKey) => registry.get(dumpKey)),
      );
      keepRunDir = true;
      throw new Error(
        `kill ${k}: ${pending.size} dumps not running in 60 s (logs in ${runDir}): ` +
          JSON.stringify(stuck.map((r) => ({ id: r?.id, state: r?.state, owner: r?.owner }))),
      );
    }
    samples.push(...failovers);
    for (const record of await registry.list()) {
      crashCounts.set(
        record.dumpKey,
        Math.max(crashCounts.get(record.dumpKey) ?? 0, record.crashes ?? 0),
      );
    }
    kills.push({ victim: victimId, dumps: owned.length, max: Math.max(...failovers) });
    log(
      `kill ${k}/${KILLS}: ${victimId} owned ${owned.length}; all running after ${Math.max(...failovers)} ms`,
    );
    await services.addWorker();
    await sleep(2_000 + Math.random() * 3_000);
  }

  await sleep(SETTLE_SECONDS * 1_000);
  // Redis's time per heartbeat script, beside the same logic without per-call helper definitions.
  const scriptCost = await heartbeatScriptCost(
    redisCommands,
    (costPrefix) => new DumpRegistry(redisCommands, { prefix: costPrefix }),
  );
  log('heartbeat script cost (µs a call)', scriptCost);
  const stops = await inFlight(dumps, 8, (d) => services.stopDump(d));
  const stopFailures = stops.filter((r) => r.status !== 200).length;
  const final = await registry.list();
  const gaps = final.reduce((sum, r) => sum + (r.progress?.gaps ?? 0), 0);
  const crashesInARow = Math.max(...crashCounts.values());
  const wouldBePoison = [...crashCounts.values()].filter((n) => n >= 3).length;
  const completed = final.filter((r) => r.state === 'Completed').length;

  const perKill = kills.map((k) => k.max);
  const redisVersion = /redis_version:(\S+)/.exec(await redisCommands.info('server'))?.[1] ?? '?';
  // The dumps' own checkpoint saves: one per rendition per 4 s segment.
  const checkpointsPerDumpPerSecond = RENDITIONS / 4;
  const expected = expectedLoad({
    ...DEFAULTS,
    dumps: DUMPS,
    workers: WORKERS,
    checkpointsPerDumpPerSecond,
  });
  const at10k = expectedLoad({
    ...DEFAULTS,
    dumps: 10_000,
    workers: 10_000 / DEFAULTS.concurrency,
    checkpointsPerDumpPerSecond,
  });
  const row = (name: string, e: number, m: number) =>
    `| ${name} | ${fmt(e, 1)} | ${fmt(m, 1)} | ${fmt(m / e, 2)} |`;
  const report = [
    `## ${new Date().toISOString()}`,
    '',
    `Machine: ${machineSummary()}, bullmq ${BULLMQ_VERSION}, Redis ${redisVersion}, shared with other work.`,
    `Workers: ${WORKERS} (plus one fresh after each kill), shipped defaults HEARTBEAT_MS=${DEFAULTS.heartbeatMs}` +
      ` LOCK_DURATION_MS=${DEFAULTS.lockDurationMs} STALLED_INTERVAL_MS=${DEFAULTS.stalledIntervalMs}.` +
      ` ${DUMPS} dumps of ${STREAMS} LL-HLS streams (3 renditions, 4 s segments), origin window` +
      ` ${WINDOW_SEGMENTS} segments (${WINDOW_SEGMENTS * 4} s) in real time.`,
    '',
    `### Failover: SIGKILL of the owner → another worker has the dump Running`,
    '',
    `${KILLS} kills of the worker owning the most dumps, ${samples.length} dumps failed over.`,
    '',
    '| | n | p50 ms | p90 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| per dump | ${samples.length} | ${percentile(samples, 50)} | ${percentile(samples, 90)} | ${percentile(samples, 99)} | ${Math.max(...samples)} |`,
    `| per kill (its last dump) | ${perKill.length} | ${percentile(perKill, 50)} | ${percentile(perKill, 90)} | ${percentile(perKill, 99)} | ${Math.max(...perKill)} |`,
    '',
    `Kills: ${kills.map((k) => `${k.victim} (${k.dumps} dumps, ${k.max} ms)`).join(', ')}.`,
    '',
    `After the kills: ${completed}/${DUMPS} dumps stopped Completed (${stopFailures} stops refused),` +
      ` **${gaps} gaps** counted over all dumps.`,
    '',
    `Workers ran with POISON_AFTER_CRASHES=${POISON_AFTER_CRASHES}: the kills took some dumps' owners down` +
      ` up to ${crashesInARow} times in a row, and with the default (3) ${wouldBePoison} of the ${DUMPS} dumps` +
      ` would have ended in Error as poison dumps, as designed.`,
    '',
    `### Redis load of heartbeats and lock renewals`,
    '',
    `Measured with INFO commandstats over ${LOAD_SECONDS} s of ${DUMPS} running dumps on ${WORKERS} workers,` +
      ` before the kills, in commands per second; the commands Lua scripts call are counted by name.` +
      ` Expected: heartbeats, lock renewals and stalled checks from the defaults, plus the dumps'` +
      ` checkpoint saves (one per rendition and segment) that any measurement includes.`,
    '',
    '| command | expected from the defaults | measured | measured / expected |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(expected.byCommand).map(([name, e]) => row(name, e, rates[name] ?? 0)),
    '',
    `All commands measured: ${Object.entries(rates)
      .sort((a, b) => b[1] - a[1])
      .map(([name, rate]) => `${name} ${fmt(rate, 1)}`)
      .join(', ')}.`,
    '',
    `Redis time in scripts (EVALSHA, their commands included): ${fmt(usecPerSecond.evalsha ?? 0, 0)} µs per` +
      ` second for ${DUMPS} dumps, ${fmt((usecPerSecond.evalsha ?? 0) / (rates.evalsha || 1), 1)} µs a script;` +
      ` at the 10 000-dump rate of scripts below that is ≈ ${fmt((((usecPerSecond.evalsha ?? 0) / (rates.evalsha || 1)) * (at10k.byCommand.evalsha ?? 0)) / 1e4, 0)}% of one core.`,
    '',
    `The registry's heartbeat script alone, measured in alternating rounds on this Redis: ${fmt(scriptCost.registry, 1)} µs` +
      ` a call; the same checks and writes without the helper functions it defines on each call:` +
      ` ${fmt(scriptCost.inline, 1)} µs (${fmt(scriptCost.registry / scriptCost.inline, 1)}×). At 10 000 dumps` +
      ` (${fmt(at10k.heartbeats, 0)} heartbeats/s): ${fmt((scriptCost.registry * at10k.heartbeats) / 1e4, 0)}%` +
      ` of one core as shipped, ${fmt((scriptCost.inline * at10k.heartbeats) / 1e4, 0)}% inlined.`,
    '',
    `The same formulas at 10 000 running dumps (${at10k.workers} workers of ${DEFAULTS.concurrency}):` +
      ` ${Object.entries(at10k.byCommand)
        .map(([name, rate]) => `${name} ${fmt(rate, 0)}/s`)
        .join(
          ', ',
        )}; ${fmt(at10k.total, 0)} commands/s in all, of which heartbeats, lock renewals and` +
      ` stalled checks ${fmt(at10k.keepAlive, 0)}/s and the dumps' checkpoint saves the rest.`,
    '',
  ].join('\n');
  await appendFile(RESULTS_FILE, `${report}\n`);
  console.log(report);
  log(`appended to ${RESULTS_FILE}`);
} finally {
  await cleanUp();
}
