import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenditionId, StreamControl, TestOrigin } from '@hlsdump/test-origin';
import {
  originsFor,
  startCluster,
  type Cluster,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { baseName } from '../support/dump-kit.js';
import { sleep } from './soak-format.js';
import { P, SEGMENT_S, USE_HEAP_PROBE, WORKER_ENV } from './soak-params.js';
import { WorkerIncarnations } from './worker-incarnations.js';

/** One dump of the soak, one live stream each, and what was seen of it. */
export interface Soaked {
  index: number;
  stream: StreamControl;
  dump: StartedDump;
  startedMediaS: number;
  lags: number[];
  steadyLags: number[];
  owners: Set<string>;
  final?: DumpStatusBody;
  stopStatus?: number;
  stopMs?: number;
  edgeAtStop: Record<string, number>;
}

export interface SoakDirs {
  run: string;
  out: string;
  logs: string;
  /** Where the heap probe writes each worker's memory on SIGUSR2. */
  probe: string;
}

/** What every phase of the soak works on. */
export interface SoakRun {
  dirs: SoakDirs;
  origin: TestOrigin;
  cluster: Cluster;
  incarnations: WorkerIncarnations;
  soaked: Soaked[];
  startedMs: number;
  /** Media seconds since the dumps were started (the origin's fast clock). */
  mediaElapsed(): number;
  /** What the run found wrong; the test asserts this list is empty. */
  problems: string[];
  note(line: string): void;
}

export const note = (line: string): void =>
  console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

export async function soakDirs(): Promise<SoakDirs> {
  const run = await mkdtemp(join(tmpdir(), 'hlsdump-soak-'));
  const dirs = { run, out: join(run, 'out'), logs: join(run, 'logs'), probe: join(run, 'probe') };
  await mkdir(dirs.out);
  await mkdir(dirs.logs);
  await mkdir(dirs.probe);
  return dirs;
}

/** The cluster under soak: the tests' harness, with the soak's worker timings and heap probe. */
export function startSoakCluster(origin: TestOrigin, dirs: SoakDirs): Promise<Cluster> {
  return startCluster({
    workers: P.workers,
    origins: originsFor(origin.url),
    gatewayEnv: { OUTPUT_ROOTS: dirs.out, STOP_TIMEOUT_MS: '15000' },
    workerEnv: WORKER_ENV,
    ...(USE_HEAP_PROBE && { heapProbeDir: dirs.probe }),
  });
}

/** Starts P.dumps dumps, one live stream each, their segment boundaries spread over a segment. */
export async function startSoakedDumps(
  origin: TestOrigin,
  cluster: Cluster,
  outDir: string,
): Promise<Soaked[]> {
  const soaked: Soaked[] = [];
  for (let i = 0; i < P.dumps; i++) {
    const name = `soak${i}`;
    const stream = origin.addStream('app', name, { windowSegments: P.windowSegments });
    const outputPath = join(outDir, `${name}-d`);
    const dump = await cluster.startDump({
      stream: name,
      id: 'd',
      outputPath,
      infoFile: `${outputPath}.xml`,
    });
    if (dump.status !== 200)
      throw new Error(`start ${name}: ${dump.status} ${JSON.stringify(dump.body)}`);
    soaked.push({
      index: i,
      stream,
      dump,
      startedMediaS: origin.clock.now(),
      lags: [],
      steadyLags: [],
      owners: new Set(),
      edgeAtStop: {},
    });
    // Independent live streams: spread their segment boundaries over one segment.
    await sleep((SEGMENT_S * 1000) / P.speed / P.dumps);
  }
  return soaked;
}

export const renditionIds = (s: StreamControl): RenditionId[] => s.renditions.map((r) => r.id);

/** The origin's newest complete segment of a rendition. */
export const edge = (s: StreamControl, r: RenditionId): number => s.status(r).completeSegments - 1;

/** The status endpoint's answer for a soaked dump; undefined also when the gateway is not reachable. */
export async function soakedStatus(
  cluster: Cluster,
  d: Soaked,
): Promise<DumpStatusBody | undefined> {
  try {
    return (await cluster.status(d.dump.vhost, d.dump.app, d.dump.stream, d.dump.id)).dump;
  } catch {
    return undefined;
  }
}

/** Segments the dump is behind the origin's edge, on its furthest-behind rendition. */
export function lagOf(d: Soaked, s: DumpStatusBody): number | undefined {
  const lags = renditionIds(d.stream).map((r) => {
    const rs = s.renditions.find((x) => x.chunklist === baseName(d.stream.chunklistUrl(r)));
    return rs?.lastSequence === undefined ? undefined : edge(d.stream, r) - rs.lastSequence;
  });
  return lags.some((l) => l === undefined) ? undefined : Math.max(...(lags as number[]));
}
