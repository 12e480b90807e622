// One run of the bench: its directory and log, the processes it started (so that a failure still
// stops exactly those), and what every phase does the same way (workers, dumps, the REST API).
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { TestRedis } from '../test/support/redis-server.ts';
import {
  inFlight,
  startWorker,
  terminate,
  type ApiClient,
  type ApiReply,
  type ServiceChild,
} from './lib/cluster.ts';
import type { BenchDump } from './lib/dump-files.ts';
import type { OriginHost } from './lib/origin-host.ts';
import type { RunOptions } from './run-options.ts';

/** The test origin's fixtures: video_0, video_1, audio_0. */
export const RENDITIONS_PER_STREAM = 3;
/** The origin's segment duration, and its part duration (1-second fixture fragments). */
export const SEGMENT_SECONDS = 4;
export const PART_SECONDS = 1;

/** The cluster every cluster phase drives: one origin (and a fast one for the memory phase), Redis, the gateway. */
export interface ClusterContext {
  origin: OriginHost;
  memOrigin: OriginHost | undefined;
  redis: TestRedis;
  queueName: string;
  prefix: string;
  api: ApiClient;
  /** The streams of the side-by-side and API phases. */
  mainStreams: string[];
}

export class BenchRun {
  readonly started = new Date();
  readonly notes: string[] = [];
  readonly outputRoot: string;
  readonly probeDir: string;
  readonly workers: ServiceChild[] = [];
  readonly ffmpeg: ChildProcess[] = [];
  readonly origins: OriginHost[] = [];
  gateway: ServiceChild | undefined;
  redis: TestRedis | undefined;
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

  async startWorkers(
    cluster: ClusterContext,
    count: number,
    tag: string,
    concurrency: number,
    nodeOptions?: string,
  ): Promise<ServiceChild[]> {
    const started: ServiceChild[] = [];
    for (let i = 0; i < count; i++) {
      const child = await startWorker({
        redisUrl: cluster.redis.url,
        runDir: this.dir,
        queueName: cluster.queueName,
        prefix: cluster.prefix,
        workerId: `${tag}${i}`,
        concurrency,
        nodeOptions,
        probeDir: this.probeDir,
      });
      started.push(child);
      this.workers.push(child);
    }
    return started;
  }

  async stopWorkers(workers: readonly ServiceChild[]): Promise<void> {
    await Promise.all(workers.map((w) => terminate(w)));
    for (const w of workers) this.workers.splice(this.workers.indexOf(w), 1);
  }

  dumpSpec(stream: string, id: string, app = 'app'): BenchDump {
    const outputPath = join(this.outputRoot, app, stream, id);
    return { stream, id, app, outputPath, infoFile: join(outputPath, 'info.xml') };
  }

  /** Starts `dumps` through the API, `limit` in flight; failures go to the run's notes. */
  async startDumps(api: ApiClient, dumps: BenchDump[], limit: number): Promise<ApiReply[]> {
    const replies = await inFlight(dumps, limit, (d) => {
      d.requestedAt = Date.now();
      return api.start(d.stream, d, d.app);
    });
    this.noteFailures('starts', replies, dumps.length);
    return replies;
  }

  async stopDumps(api: ApiClient, dumps: BenchDump[], limit: number): Promise<ApiReply[]> {
    const replies = await inFlight(dumps, limit, (d) => {
      d.stopRequestedAt = Date.now();
      return api.stop(d.stream, d.id, d.app);
    });
    this.noteFailures('stops', replies, dumps.length);
    return replies;
  }

  /** Stops every process this run started that is still running. */
  async cleanup(): Promise<void> {
    for (const f of this.ffmpeg) if (f.exitCode === null) f.kill('SIGKILL');
    await Promise.all(this.workers.map((w) => terminate(w, 10_000)));
    this.workers.length = 0;
    await terminate(this.gateway, 10_000);
    this.gateway = undefined;
    await Promise.all(this.origins.map((o) => o.close().catch(() => undefined)));
    this.origins.length = 0;
    await this.redis?.stop().catch(() => undefined);
    this.redis = undefined;
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
