// An idle worker's CPU, builds side by side: each round starts, for each build in turn, a fresh
// redis-server and one worker process (`<tree>/services/worker/dist/main.js`, shipped defaults)
// with nothing to record, lets it settle, then reads its utime + stime (/proc) over the window.
// Rounds alternate the builds, so each sees the same machine load.
//
//   node bench/idle-worker.ts --seconds 25 --rounds 4 /work/wt/base /work/wt/new
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cpuSeconds } from '../test/support/proc-stats.ts';
import { startTestRedis } from '../test/support/redis-server.ts';
import { workerBuildOf } from './lib/worker-build.ts';

const { values: opts, positionals: trees } = parseArgs({
  options: {
    seconds: { type: 'string', default: '25' },
    rounds: { type: 'string', default: '4' },
    settle: { type: 'string', default: '5' },
  },
  allowPositionals: true,
});
if (trees.length === 0) trees.push(process.cwd());
const seconds = Number(opts.seconds);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const results = new Map<string, number[]>(trees.map((tree) => [tree, []]));
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const tree of trees) {
    const redis = await startTestRedis();
    // Each build as it ships (its own Node flags).
    const build = await workerBuildOf(tree);
    const worker = spawn(process.execPath, [...build.nodeFlags, build.main], {
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        WORKER_ID: `idle-${round}`,
        METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await sleep(Number(opts.settle) * 1000);
    const cpu0 = cpuSeconds(worker.pid) ?? 0;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const msPerSecond = (((cpuSeconds(worker.pid) ?? 0) - cpu0) * 1e6) / (performance.now() - t0);
    results.get(tree)!.push(msPerSecond);
    console.log(
      `round ${round} ${tree}: ${msPerSecond.toFixed(2)} ms CPU/s (load ${loadAverage()})`,
    );
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
    await redis.stop();
  }
}
for (const [tree, values] of results) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `${tree}: median ${median.toFixed(2)} ms CPU/s [${values.map((v) => v.toFixed(2)).join(', ')}]`,
  );
}
