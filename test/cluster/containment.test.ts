/**
 * Containment: one real worker process runs healthy dumps beside dumps whose origin answers, for
 * the whole run, with faults drawn at random (seeded) from the fault server's list. The healthy
 * dumps end byte for byte with no gap, the worker is the same process at the end, and each faulty
 * dump ends in a counted gap or its own Error with the reason.
 *
 * CI runs it short. `npm run bench:containment` runs it for minutes and writes
 * bench/results/containment.md. CONTAINMENT_SEED replays a seed (the run prints its seed).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FAULT_KINDS,
  createFaultServer,
  createTestOrigin,
  randomFaults,
  type FaultKind,
  type FaultServer,
  type StreamControl,
  type TestOrigin,
} from '@hlsdump/test-origin';
import { afterAll, expect, it } from 'vitest';
import { startCluster, type Cluster, type StartedDump } from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';
import { machineLines } from '../support/machine.js';
import { procSample } from '../support/proc-stats.js';
import { probeHeap, type HeapReport } from '../support/heap-probe.js';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a number ≥ 0, got ${raw}`);
  return value;
};

const SEED = Math.round(num('CONTAINMENT_SEED', Math.floor(Math.random() * 2 ** 31)));
const HEALTHY = Math.round(num('CONTAINMENT_HEALTHY', 20));
const SECONDS = num('CONTAINMENT_SECONDS', 15);
/** Share of the faulty origin's answers that are faults. */
const FAULT_RATE = num('CONTAINMENT_FAULT_RATE', 0.3);
const SPEED = 4;
const REPORT = process.env['CONTAINMENT_REPORT'];

console.log(`containment: seed ${SEED} (replay with CONTAINMENT_SEED=${SEED})`);

interface FaultyDump {
  dump: StartedDump;
  /** How it ended: `Completed`, `Error <code>`, or `refused <status>` (the start itself). */
  outcome?: string;
  gaps: number;
  reason?: string;
}

let origin: TestOrigin | undefined;
let faults: FaultServer | undefined;
let cluster: Cluster | undefined;
let probeDir: string | undefined;
afterAll(async () => {
  await cluster?.close();
  await faults?.close();
  await origin?.close();
  if (probeDir) await rm(probeDir, { recursive: true, force: true });
});

it(
  `one worker: ${HEALTHY} healthy dumps byte-exact beside a faulty origin (seed ${SEED})`,
  { timeout: (SECONDS + 240) * 1000 },
  async () => {
    const startedAt = new Date();
    origin = await createTestOrigin({ speed: SPEED });
    const healthyStreams: StreamControl[] = Array.from({ length: HEALTHY }, (_, i) =>
      origin!.addStream('app', `h${i}`, { windowSegments: 12 }),
    );
    origin.addStream('faulty', 'chaos', { windowSegments: 12 });
    let armed = false;
    const draw = randomFaults({ seed: SEED, rate: FAULT_RATE });
    faults = await createFaultServer({
      upstream: origin.url,
      choose: (request) => (armed ? draw(request) : undefined),
    });
    probeDir = await mkdtemp(join(tmpdir(), 'hlsdump-containment-probe-'));
    cluster = await startCluster({
      workers: 1,
      origins: {
        vhosts: {
          default: {
            apps: {
              app: {
                origin: `${origin.url}/{app}/{outputStreamName}/`,
                defaultPlaylist: 'llhls.m3u8',
              },
              faulty: {
                origin: `${faults.url}/{app}/{outputStreamName}/`,
                defaultPlaylist: 'llhls.m3u8',
              },
            },
          },
        },
      },
      workerEnv: { WORKER_CONCURRENCY: String(HEALTHY + 4) },
      heapProbeDir: probeDir,
    });
    const c = cluster;
    const worker = c.workers[0]!;
    const pid = worker.pid!;
    const memory = async () => ({
      rssKb: procSample(pid)?.rssKb,
      heap: await probeHeap(pid, probeDir!, 10_000),
    });

    const healthy: StartedDump[] = [];
    for (const [i, stream] of healthyStreams.entries()) {
      const started = await c.startDump({ stream: stream.stream, id: `d${i}` });
      expect(started.status, `${stream.stream}: ${JSON.stringify(started.body)}\n${c.logs()}`).toBe(
        200,
      );
      healthy.push(started);
    }
    // Memory once every healthy dump runs, before the first fault.
    await waitFor(
      'every healthy dump to record a segment',
      async () => {
        for (const d of healthy) {
          const s = (await c.status(d.vhost, d.app, d.stream, d.id)).dump;
          if (!s || s.renditions.length < 3 || s.renditions.some((r) => r.segments < 1))
            return false;
        }
        return true;
      },
      { timeoutMs: 60_000, details: () => c.logs() },
    );
    const memoryAtStart = await memory();

    // The faulty origin: a dump at a time, a new one as soon as the last has ended.
    const faulty: FaultyDump[] = [];
    const startFaulty = async (): Promise<FaultyDump> => {
      const entry: FaultyDump = {
        dump: await c.startDump({ stream: 'chaos', app: 'faulty', id: `f${faulty.length}` }),
        gaps: 0,
      };
      if (entry.dump.status !== 200) {
        entry.outcome = `refused ${entry.dump.status}`;
        entry.reason = entry.dump.body.message ?? '';
      }
      faulty.push(entry);
      return entry;
    };
    let current = await startFaulty();
    armed = true;
    const faultsFrom = Date.now();
    const deadline = faultsFrom + SECONDS * 1000;
    const rssTimeline: { atS: number; rssKb: number }[] = [];
    while (Date.now() < deadline) {
      const rssKb = procSample(pid)?.rssKb;
      if (rssKb !== undefined) rssTimeline.push({ atS: (Date.now() - faultsFrom) / 1000, rssKb });
      if (current.outcome === undefined) {
        const s = (await c.status('default', 'faulty', 'chaos', current.dump.id)).dump;
        if (s && (s.status === 'Completed' || s.status === 'Error')) {
          current.outcome = s.status === 'Error' ? `Error ${s.error?.code}` : 'Completed';
          current.reason = s.error?.message;
          current.gaps = s.gaps;
        }
      }
      if (current.outcome !== undefined) current = await startFaulty();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    armed = false;

    // Healthy dumps first: stopped, then checked byte for byte against the origin.
    const memoryAtEnd = await memory();
    for (const d of healthy) {
      const stopped = await c.stopDump({ stream: d.stream, id: d.id });
      expect(stopped.status, `${d.stream}: ${JSON.stringify(stopped.body)}\n${c.logs()}`).toBe(200);
    }
    if (current.outcome === undefined) {
      const stopped = await c.stopDump({ stream: 'chaos', app: 'faulty', id: current.dump.id });
      const s = (await c.status('default', 'faulty', 'chaos', current.dump.id)).dump;
      current.outcome = stopped.status === 200 ? `stopped: ${s?.status}` : `stop ${stopped.status}`;
      current.gaps = s?.gaps ?? 0;
      current.reason = s?.error?.message;
    }

    let healthySegments = 0;
    let healthyGaps = 0;
    for (const [i, d] of healthy.entries()) {
      const s = (await c.status(d.vhost, d.app, d.stream, d.id)).dump!;
      healthyGaps += s.gaps;
      expect(s.gaps, `${d.stream} gaps`).toBe(0);
      const verified = await verifyDump(
        healthyStreams[i]!,
        { outputPath: d.outputPath, infoFile: d.infoFile!, streamName: `/default/app/${d.stream}` },
        { minSegments: 2, context: () => `seed ${SEED}\n${c.logs()}` },
      );
      healthySegments += Object.values(verified.segments).reduce((a, b) => a + b, 0);
    }

    // Each faulty dump ended one way: Completed (gaps counted) or its own Error with the reason;
    // a start refused through the API says why too.
    for (const f of faulty) {
      expect(f.outcome, `seed ${SEED}: f ${f.dump.id}`).toMatch(
        /^(Completed|stopped: Completed|Error [A-Z_]+|refused [45]\d\d)$/,
      );
      if (f.outcome!.startsWith('Error') || f.outcome!.startsWith('refused'))
        expect(f.reason, `seed ${SEED}: ${f.dump.id} ${f.outcome}`).toBeTruthy();
      if (f.dump.status === 200) {
        const info = await readInfoFile(f.dump.infoFile!);
        expect(info.status).toBe(f.outcome!.startsWith('Error') ? 'Error' : 'Completed');
      }
    }

    // The same worker process, alive, served every dump.
    expect(worker.running, c.logs()).toBe(true);
    expect(worker.pid).toBe(pid);
    const served = FAULT_KINDS.map((kind) => [kind, faults!.served[kind]] as const);
    const totalFaults = served.reduce((sum, [, n]) => sum + n, 0);
    expect(totalFaults, `seed ${SEED}`).toBeGreaterThan(0);

    const summary = {
      seed: SEED,
      seconds: SECONDS,
      healthy: healthy.length,
      healthySegments,
      healthyGaps,
      faulty,
      served,
      passedThrough: faults.passedThrough,
      memoryAtStart,
      memoryAtEnd,
      rssTimeline,
      pid,
    };
    console.log(
      `containment: seed ${SEED}, ${totalFaults} faults served, ${faulty.length} faulty dumps ` +
        `(${faulty.map((f) => f.outcome).join(', ')}), RSS ${kib(memoryAtStart.rssKb)} → ${kib(memoryAtEnd.rssKb)}`,
    );
    if (REPORT) await writeReport(REPORT, startedAt, summary);
  },
);

function kib(value: number | undefined): string {
  return value === undefined ? '?' : `${(value / 1024).toFixed(1)} MiB`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function writeReport(
  path: string,
  startedAt: Date,
  s: {
    seed: number;
    seconds: number;
    healthy: number;
    healthySegments: number;
    healthyGaps: number;
    faulty: FaultyDump[];
    served: (readonly [FaultKind, number])[];
    passedThrough: number;
    memoryAtStart: { rssKb: number | undefined; heap: HeapReport | undefined };
    memoryAtEnd: { rssKb: number | undefined; heap: HeapReport | undefined };
    rssTimeline: { atS: number; rssKb: number }[];
    pid: number;
  },
): Promise<void> {
  const machine = machineLines();
  const outcomes = new Map<string, number>();
  for (const f of s.faulty)
    outcomes.set(f.outcome ?? '?', (outcomes.get(f.outcome ?? '?') ?? 0) + 1);
  const lines = [
    '# Containment run',
    '',
    `Date: ${startedAt.toISOString()}. Machine: ${machine.cpu}, ${machine.cores} cores (${cpus().length} seen by Node), ${machine.memoryGiB} GiB, ${machine.os}, Node ${process.version}.`,
    '',
    `Command: \`CONTAINMENT_SECONDS=${s.seconds} CONTAINMENT_SEED=${s.seed} npm run bench:containment\` (the seed replays the same draws).`,
    '',
    `One worker process (pid ${s.pid}, the same at the end), ${s.healthy} healthy dumps of the test origin (LL-HLS, 3 renditions, ×${SPEED} real time) and, beside them, one dump at a time of a stream behind the fault server answering ${Math.round(FAULT_RATE * 100)} % of its requests with a fault drawn at random, for ${s.seconds} s.`,
    '',
    '| | |',
    '| --- | --- |',
    `| healthy dumps | ${s.healthy}, every one byte-exact against the origin, ${s.healthyGaps} gaps, ${s.healthySegments} segments in all |`,
    `| faulty dumps | ${s.faulty.length}: ${[...outcomes].map(([o, n]) => `${o} ×${n}`).join(', ')} |`,
    `| gaps of the faulty dumps | ${s.faulty.reduce((sum, f) => sum + f.gaps, 0)} |`,
    `| faulty origin answers | ${s.served.reduce((sum, [, n]) => sum + n, 0)} faults, ${s.passedThrough} passed through |`,
    `| worker RSS | ${kib(s.memoryAtStart.rssKb)} at start (every healthy dump running) → ${kib(s.memoryAtEnd.rssKb)} at the end |`,
    `| worker live heap after a full GC | ${mib(s.memoryAtStart.heap?.heapUsed)} → ${mib(s.memoryAtEnd.heap?.heapUsed)} |`,
    `| worker external memory (buffers) after a full GC | ${mib(s.memoryAtStart.heap?.external)} → ${mib(s.memoryAtEnd.heap?.external)} |`,
    '',
    `The faulty stream's window holds 12 segments (12 s of real time): a drip holds a segment for up to the client's body deadline (30 s) a try, so that rendition falls out of the window, and what it misses is counted as gaps.`,
    '',
    '**Worker RSS while the faults were served**',
    '',
    '| s | RSS |',
    '| ---: | ---: |',
    ...spread(s.rssTimeline, 9).map((p) => `| ${Math.round(p.atS)} | ${kib(p.rssKb)} |`),
    '',
    '**Faults served, by kind**',
    '',
    '| kind | served |',
    '| --- | --- |',
    ...s.served.map(([kind, n]) => `| ${kind} | ${n} |`),
    '',
    '**Faulty dumps**',
    '',
    '| id | outcome | gaps | reason |',
    '| --- | --- | --- | --- |',
    ...s.faulty.map(
      (f) =>
        `| ${f.dump.id} | ${f.outcome} | ${f.gaps} | ${(f.reason ?? '').replace(/\|/g, '\\|').slice(0, 200)} |`,
    ),
    '',
  ];
  await writeFile(path, lines.join('\n'));
}

/** `count` points spread evenly over `points`, the first and the last included. */
function spread<T>(points: T[], count: number): T[] {
  if (points.length <= count) return points;
  return Array.from(
    { length: count },
    (_, i) => points[Math.round((i * (points.length - 1)) / (count - 1))]!,
  );
}
