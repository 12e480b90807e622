// One run of the bench: its directory and log, the processes it started (so that a failure still
// stops exactly those), and what every phase does the same way (workers, dumps, the REST API).
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Cluster, ClusterWorker, WorkerBuild } from '../test/support/cluster.ts';
import type { BenchDump } from './lib/dump-files.ts';
import { envOfPairs } from './lib/env-pairs.ts';
import { inFlight } from './lib/in-flight.ts';
import type { OriginHost } from './lib/origin-host.ts';
import type { RunOptions } from './run-options.ts';

/** The test origin's fixtures: video_0, video_1, audio_0. */
export const RENDITIONS_PER_STREAM = 3;
/** The origin's segment duration, and its part duration (1-second fixture fragments). */
export const SEGMENT_SECONDS = 4;
export const PART_SECONDS = 1;

/** The origins every cluster phase drives (a fast-clocked one for the memory phase). */
export interface ClusterContext {
  origin: OriginHost;
  memOrigin: OriginHost | undefined;
  /** The streams of the side-by-side and API phases. */
  mainStreams: string[];
}

/** One call of OME's REST API, timed. */
export interface ApiReply {
  status: number;
  ms: number;
  text: string;
}

export class BenchRun {
  readonly started = new Date();
  readonly notes: string[] = [];
  readonly outputRoot: string;
  readonly probeDir: string;
  readonly ffmpeg: ChildProcess[] = [];
  /** Other processes the run started (the loop peers). */
  readonly children: ChildProcess[] = [];
  readonly origins: OriginHost[] = [];
  /** The hlsdump cluster (test/support/cluster.ts): Redis, the gateway, the workers phases add. */
  services: Cluster | undefined;
  private readonly logFile: WriteStream;

  readonly options: RunOptions;
  readonly dir: string;

  private constructor(options: RunOptions, dir: string) {
    this.options = options;
    this.dir = dir;
    this.outputRoot = join(dir, 'out');
    this.probeDir = join(dir, 'probe');
    this.logFile = createWriteStream(join(dir, 'bench.log'));
  }

  static async create(options: RunOptions): Promise<BenchRun> {
    const dir = await mkdtemp(join(os.tmpdir(), 'hlsdump-bench-'));
    const run = new BenchRun(options, dir);
    await mkdir(run.outputRoot, { recursive: true });
    await mkdir(run.probeDir, { recursive: true });
    return run;
  }

  log(...parts: unknown[]): void {
    const line = `[${new Date().toISOString().slice(11, 23)}] ${parts.join(' ')}`;
    console.log(line);
    this.logFile.write(line + '\n');
  }

  /** Streams' phases spread over one segment, unless --aligned asks for the worst case. */
  spreadMs(speed = this.options.speed): number {
    return this.options.aligned ? 0 : (SEGMENT_SECONDS * 1000) / speed;
  }

  /** The cluster, once run.ts started it. */
  get cluster(): Cluster {
    if (!this.services) throw new Error('the cluster is not started');
    return this.services;
  }

  /** Adds `count` worker processes of `concurrency` dumps each; `nodeArgs` for these alone. */
  async startWorkers(
    count: number,
    concurrency: number,
    nodeArgs: string[] = [],
    build?: WorkerBuild,
  ): Promise<ClusterWorker[]> {
    const started: ClusterWorker[] = [];
    for (let i = 0; i < count; i++)
      started.push(
        await this.cluster.addWorker(
          { ...envOfPairs(this.options.workerEnv), WORKER_CONCURRENCY: String(concurrency) },
          { nodeArgs, ...(build !== undefined && { build }) },
        ),
      );
    return started;
  }

  /** Stops workers gracefully (a CPU profile is written on the way out). */
  async stopWorkers(workers: readonly ClusterWorker[]): Promise<void> {
    await Promise.all(workers.map((w) => w.terminate()));
  }

  dumpSpec(stream: string, id: string, app = 'app'): BenchDump {
    const outputPath = join(this.outputRoot, app, stream, id);
    return { stream, id, app, outputPath, infoFile: join(outputPath, 'info.xml') };
  }

  /** Starts `dumps` through the API, `limit` in flight; failures go to the run's notes. */
  async startDumps(dumps: BenchDump[], limit: number): Promise<ApiReply[]> {
    const replies = await inFlight(dumps, limit, (d) => {
      d.requestedAt = Date.now();
      return timed(() =>
        this.cluster.startDump({
          stream: d.stream,
          app: d.app,
          id: d.id,
          outputPath: d.outputPath,
          infoFile: d.infoFile,
        }),
      );
    });
    this.noteFailures('starts', replies, dumps.length);
    return replies;
  }

  async stopDumps(dumps: BenchDump[], limit: number): Promise<ApiReply[]> {
    const replies = await inFlight(dumps, limit, (d) => {
      d.stopRequestedAt = Date.now();
      return timed(() => this.cluster.stopDump({ stream: d.stream, app: d.app, id: d.id }));
    });
    this.noteFailures('stops', replies, dumps.length);
    return replies;
  }

  /** Stops every process this run started that is still running. */
  async cleanup(): Promise<void> {
    for (const f of [...this.ffmpeg, ...this.children]) if (f.exitCode === null) f.kill('SIGKILL');
    await this.services?.close();
    this.services = undefined;
    await Promise.all(this.origins.map((o) => o.close().catch(() => undefined)));
    this.origins.length = 0;
  }

  closeLog(): void {
    this.logFile.end();
  }

  private noteFailures(what: string, replies: ApiReply[], total: number): void {
    const failed = replies.filter((r) => r.status !== 200);
    const first = failed[0];
    if (first === undefined) return;
    this.log(`${failed.length}/${total} ${what} failed, first: ${first.status} ${first.text}`);
    this.notes.push(
      `${failed.length} of ${total} ${what} failed (first: ${first.status} ${first.text.slice(0, 200)})`,
    );
  }
}

async function timed(call: () => Promise<{ status: number; body: unknown }>): Promise<ApiReply> {
  const t0 = performance.now();
  const { status, body } = await call();
  return { status, ms: performance.now() - t0, text: JSON.stringify(body) };
}
