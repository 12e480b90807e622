// Containment for minutes: one worker process, 20 healthy dumps and a faulty origin answering
// with faults drawn at random (test/cluster/containment.test.ts, run long). Writes
// bench/results/containment.md: machine, date, dumps, faults served by kind, gaps, worker RSS and
// live heap at start and end.
//
//   npm run bench:containment                        # 240 s of faults
//   CONTAINMENT_SECONDS=600 npm run bench:containment
//   CONTAINMENT_SEED=<seed> npm run bench:containment # replay a run's draws
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const env = {
  ...process.env,
  CONTAINMENT_SECONDS: process.env.CONTAINMENT_SECONDS || '240',
  CONTAINMENT_REPORT:
    process.env.CONTAINMENT_REPORT ||
    fileURLToPath(new URL('results/containment.md', import.meta.url)),
};
const child = spawn(
  'npx',
  ['vitest', 'run', '--silent=false', 'test/cluster/containment.test.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  if (code === 0) console.log(`containment: results in ${env.CONTAINMENT_REPORT}`);
  process.exit(code ?? (signal ? 1 : 0));
});
