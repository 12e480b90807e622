import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from './node-flags.js';

const REPO = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, REPO), 'utf8');

/**
 * Allocates objects that live long enough to reach the old generation, then prints how often V8's
 * helper threads went to sleep after work (their voluntary context switches, from /proc: one per
 * batch of tasks handed to them) while it allocated ten million more, after a warm-up that
 * compiles the loop (also their work). Counted, not timed, and a fixed amount of work: on a loaded
 * machine the CPU ticks of the few compilations left stretch, and a fixed time holds fewer
 * collections; the hand-offs of a fixed amount of allocation do not change as much.
 */
const ALLOCATE_THEN_REPORT = `
const fs = require('node:fs');
const helperSleeps = () => {
  let sleeps = 0;
  for (const task of fs.readdirSync('/proc/self/task')) {
    if (fs.readFileSync('/proc/self/task/' + task + '/comm', 'utf8').trim() !== 'node-V8Worker') continue;
    const status = fs.readFileSync('/proc/self/task/' + task + '/status', 'utf8');
    sleeps += Number(/^voluntary_ctxt_switches:\\s+(\\d+)$/m.exec(status)[1]);
  }
  return sleeps;
};
let kept = [];
const allocate = (rounds) => {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 1000; i++) kept.push({ i, text: 'x' + i });
    if (kept.length > 300000) kept = kept.slice(150000);
  }
};
allocate(3000);
const before = helperSleeps();
allocate(10000);
console.log(helperSleeps() - before);
`;

function helperThreadSleeps(flags: readonly string[]): number {
  const out = execFileSync(process.execPath, [...flags, '-e', ALLOCATE_THEN_REPORT], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

describe("the worker's Node flags", () => {
  it('every way of starting the worker passes them', () => {
    const flags = WORKER_NODE_FLAGS.join(' ');
    expect(flags).not.toBe('');
    const rootPackage = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(rootPackage.scripts['start:worker']).toBe(`node ${flags} services/worker/dist/main.js`);
    // The image's command takes them from its NODE_FLAGS build argument.
    expect(read('Dockerfile')).toContain('exec node $NODE_FLAGS \\"$ENTRY\\"');
    const composeWorker = /\n {2}worker:\n(?: {4}.*\n|\n)*/.exec(read('docker-compose.yml'))?.[0];
    expect(composeWorker).toContain(`NODE_FLAGS: ${flags}\n`);
    expect(read('deploy/kubernetes/README.md')).toContain(
      `--build-arg ENTRY=services/worker/dist/main.js --build-arg NODE_FLAGS=${flags} `,
    );
  });

  it('keep the garbage collector on the JavaScript thread', () => {
    // Without them V8 marks, sweeps and scavenges on its helper threads; with them those threads
    // are left with compiling, which the warm-up has done.
    // Here: 600–1 200 without them, 11 with them; beside four busy processes 240–350 and 15–20.
    const without = helperThreadSleeps([]);
    const withFlags = helperThreadSleeps(WORKER_NODE_FLAGS);
    expect(without).toBeGreaterThan(50);
    expect(withFlags).toBeLessThan(without / 5);
  });
});
