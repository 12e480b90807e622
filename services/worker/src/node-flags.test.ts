import { execFileSync, spawnSync } from 'node:child_process';
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

/**
 * Builds a live heap of some 60 MB and collects it fully three times. V8's own trace of the last
 * collection (`--trace-gc-nvp`) gives the room the old generation then has before the next one:
 * its limit, less what survived, less the young generation's capacity (added to every limit).
 */
const ROOM_AFTER_FULL_GC = `
globalThis.live = [];
for (let i = 0; i < 400000; i++) globalThis.live.push({ i, text: ('state ' + i).repeat(4) });
globalThis.gc();
globalThis.gc();
globalThis.gc();
`;

function roomOverLive(flags: readonly string[]): number {
  const result = spawnSync(
    process.execPath,
    [...flags, '--expose-gc', '--trace-gc-nvp', '-e', ROOM_AFTER_FULL_GC],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const fullCollections = result.stdout
    .split('\n')
    .flatMap((line) => {
      const json = /GC: (\{.*\})$/.exec(line)?.[1];
      return json === undefined ? [] : [JSON.parse(json) as Record<string, unknown>];
    })
    .filter((gc) => gc.gc === 'mc');
  const last = fullCollections.at(-1);
  if (last === undefined) throw new Error(`no full collection traced: ${result.stderr}`);
  const live = Number(last.end_object_size);
  const room = Number(last.old_gen_allocation_limit) - live - Number(last.new_space_capacity);
  return room / live;
}

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
    // Quoted: the flags are one build argument, spaces and all.
    expect(read('deploy/kubernetes/README.md')).toContain(
      `--build-arg ENTRY=services/worker/dist/main.js --build-arg "NODE_FLAGS=${flags}" `,
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

  it('give the old generation room for its live size between full collections', () => {
    // The limit is the live size times V8's growing factor: with the flags the factor is 2, so
    // the room is the live size, whatever V8 measures of the process (3.0 here without them).
    const withFlags = roomOverLive(WORKER_NODE_FLAGS);
    expect(withFlags).toBeGreaterThan(0.95);
    expect(withFlags).toBeLessThan(1.05);
  });
});
