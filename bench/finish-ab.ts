// CPU and wall time of a dump's end on disk (each chunklist rewritten into its final form, then the
// infoFile's final version) for many dumps ending at once, as a burst of stops makes them, of two
// builds of hlsdump interleaved in one process so that both see the same machine load: a batch of
// one build, then the other, alternating, each measured with process.cpuUsage().
//
//   node bench/finish-ab.ts --base /work/wt/base --new . [--dumps 50] [--segments 3] [--rounds 10]
//
// Each build's `dist` is loaded from its root (build both first). A dump here is what the api
// phase's dumps hold when they are stopped: 3 chunklists of a few segments, an infoFile listing them.
// The CPU of the writes that came before the end (the recording) is reported beside it: work moved
// ahead of the stop shows there.
import console from 'node:console';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { machineSummary } from '../test/support/machine.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    new: { type: 'string', default: '.' },
    dumps: { type: 'string', default: '50' },
    segments: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '10' },
  },
});
if (values.base === undefined) throw new Error('--base <tree> is required');
const DUMPS = Number(values.dumps);
const SEGMENTS = Number(values.segments);
const ROUNDS = Number(values.rounds);
const RENDITIONS = 3;
const HEAD = '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:100\n';

interface ChunklistFileLike {
  rewrite(head: string): Promise<number>;
  append(head: string, lines: string): Promise<number>;
  finish(head: string): Promise<number>;
}
interface InfoFileLike {
  append(file: string, time?: Date): Promise<number>;
  /** Builds that make the final version's file ahead of the stop (the engine calls it). */
  prepareFinish?(): void;
  finish(
    status: 'Completed',
    error: undefined,
    last: { file: string; time: Date }[],
  ): Promise<number[]>;
}
interface Build {
  name: string;
  storage: unknown;
  ChunklistFile: new (storage: unknown, path: string) => ChunklistFileLike;
  createInfoFile(storage: unknown, path: string): Promise<InfoFileLike>;
}

async function load(name: string, root: string): Promise<Build> {
  const dist = (pkg: string) =>
    pathToFileURL(join(resolve(root), 'packages', pkg, 'dist', 'index.js')).href;
  const storageModule = await import(dist('storage'));
  const engine = await import(dist('dump-engine'));
  const info = await import(dist('info-file'));
  return {
    name,
    storage: new storageModule.LocalStorage(),
    ChunklistFile: engine.ChunklistFile,
    createInfoFile: (storage, path) =>
      info.InfoFileWriter.create(storage, path, { stream: 'bench' }) as Promise<InfoFileLike>,
  };
}

/** The dumps of one batch, as a stop finds them: files written, held open. */
async function prepare(build: Build, dir: string) {
  return Promise.all(
    Array.from({ length: DUMPS }, async (_, d) => {
      const folder = join(dir, `d${d}`);
      await mkdir(folder);
      const info = await build.createInfoFile(build.storage, join(folder, 'info.xml'));
      const chunklists = await Promise.all(
        Array.from({ length: RENDITIONS }, async (_, r) => {
          const file = new build.ChunklistFile(build.storage, join(folder, `r${r}.m3u8`));
          await file.rewrite(HEAD);
          await info.append(join(folder, `r${r}.m3u8`));
          for (let s = 0; s < SEGMENTS; s++) {
            await file.append(HEAD, `#EXTINF:2.000,\nr${r}_${100 + s}.m4s\n`);
            await info.append(join(folder, `r${r}_${100 + s}.m4s`));
          }
          return file;
        }),
      );
      info.prepareFinish?.();
      return { folder, info, chunklists };
    }),
  );
}

async function finishAll(dumps: Awaited<ReturnType<typeof prepare>>): Promise<void> {
  await Promise.all(
    dumps.map(async ({ folder, info, chunklists }) => {
      await Promise.all(chunklists.map((c) => c.finish(HEAD)));
      await info.finish(
        'Completed',
        undefined,
        chunklists.map((_, r) => ({ file: join(folder, `r${r}.m3u8`), time: new Date() })),
      );
    }),
  );
}

const builds = [await load('base', values.base), await load('new', values.new)];
const root = await mkdtemp(join(os.tmpdir(), 'hlsdump-finish-ab-'));
const figures = new Map(
  builds.map((b) => [
    b.name,
    { cpu: [] as number[], wall: [] as number[], recording: [] as number[] },
  ]),
);
try {
  for (let round = 0; round <= ROUNDS; round++) {
    // Alternate which build goes first, so neither always follows the other's writes.
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const build of order) {
      const dir = join(root, `${build.name}-${round}`);
      await mkdir(dir);
      const cpuRecording = process.cpuUsage();
      const dumps = await prepare(build, dir);
      // What the dumps do ahead of their stop in the background is done by the time it comes.
      await sleep(100);
      const recording = process.cpuUsage(cpuRecording);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await finishAll(dumps);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      // Round 0 warms both builds up and is not counted.
      if (round > 0) {
        figures.get(build.name)!.cpu.push((cpu.user + cpu.system) / 1000);
        figures.get(build.name)!.recording.push((recording.user + recording.system) / 1000);
        figures.get(build.name)!.wall.push(wall);
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = figures.get('base')!;
const next = figures.get('new')!;
console.log(machineSummary());
console.log(
  `${DUMPS} dumps ending at once (${RENDITIONS} chunklists of ${SEGMENTS} segments and an infoFile each), ${ROUNDS} rounds, medians:`,
);
for (const [name, f] of figures)
  console.log(
    `  ${name}: the end ${(median(f.cpu) / DUMPS).toFixed(3)} ms CPU per dump, ${median(f.wall).toFixed(1)} ms wall for all; the recording before it ${(median(f.recording) / DUMPS).toFixed(3)} ms CPU per dump`,
  );
console.log(
  `  new / base: the end CPU ×${(median(next.cpu) / median(base.cpu)).toFixed(2)}, wall ×${(median(next.wall) / median(base.wall)).toFixed(2)}; the recording before it CPU ×${(median(next.recording) / median(base.recording)).toFixed(2)}`,
);
