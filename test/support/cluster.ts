import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKER_NODE_FLAGS } from '@hlsdump/worker/node-flags';
import { startTestRedis, type TestRedis } from './redis-server.ts';
import { uniqueName } from './unique-name.ts';
import { tempDir } from './dump-kit.ts';
import { ServiceProcess } from './service-process.ts';
import { REPO_ROOT } from './spawn-node.ts';
import { heapProbeEnv, heapProbeNodeArgs } from './heap-probe.ts';
import { waitFor } from './wait-for.ts';

export const GATEWAY_MAIN = join(REPO_ROOT, 'services/gateway/dist/main.js');
export const WORKER_MAIN = join(REPO_ROOT, 'services/worker/dist/main.js');

/** The origins JSON file's shape (`HLSDUMP_ORIGINS`). */
export interface OriginsConfig {
  vhosts: Record<
    string,
    {
      apps: Record<
        string,
        {
          origin: string;
          defaultPlaylist?: string;
          headers?: Record<string, string>;
          caFile?: string;
        }
      >;
    }
  >;
}

/**
 * `vhost default / app <app>` → `<originUrl>/{app}/{outputStreamName}/`: the test origin's layout.
 * `originUrl` may instead map each app to an origin of its own (then `apps` is not read).
 */
export function originsFor(
  originUrl: string | Record<string, string>,
  apps: string[] = ['app'],
): OriginsConfig {
  const byApp =
    typeof originUrl === 'string'
      ? Object.fromEntries(apps.map((app) => [app, originUrl]))
      : originUrl;
  return {
    vhosts: {
      default: {
        apps: Object.fromEntries(
          Object.entries(byApp).map(([app, url]) => [
            app,
            { origin: `${url}/{app}/{outputStreamName}/`, defaultPlaylist: 'llhls.m3u8' },
          ]),
        ),
      },
    },
  };
}

export interface ClusterOptions {
  workers: number;
  origins: OriginsConfig;
  /** For the gateway and every worker (overrides the test defaults). */
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /**
   * 'test' (the default): timeouts short enough for tests (failover in about 5 s, quick shutdowns,
   * short start/stop/origin waits in the gateway). 'shipped': every process keeps its shipped
   * defaults, as operators run it (the failover figures, the bench).
   */
  timeouts?: 'test' | 'shipped';
  /**
   * A Redis the test runs itself (e.g. behind Sentinel): `env` stands in for REDIS_URL in every
   * process, and the cluster leaves it running when it closes.
   */
  externalRedis?: { redis: TestRedis; env: Record<string, string> };
  /** Node's own flags for every worker process (a CPU profiler, say). */
  workerNodeArgs?: string[];
  /** Node's own flags for the gateway process (a CPU profiler, say). */
  gatewayNodeArgs?: string[];
  /** The gateway's entry point, when not this tree's build (another build side by side). */
  gatewayMain?: string;
  /**
   * Preloads heap-probe-preload.ts into every worker, writing its reports to this directory:
   * `probeHeap(worker.pid, dir)` reads a worker's live heap after a full GC.
   */
  heapProbeDir?: string;
  /** Also writes each process's output to `<logDir>/<name>.log` as it comes (long runs, bench). */
  logDir?: string;
}

export interface ApiResult {
  status: number;
  body: { statusCode?: number; message?: string; response?: unknown } & Record<string, unknown>;
}

/** What the status endpoint answers for one dump (the fields tests read). */
export interface DumpStatusBody {
  id: string;
  outputStreamName: string;
  outputPath: string;
  infoFile?: string;
  status: string;
  owner?: string;
  renditions: {
    chunklist: string;
    lastSequence?: number;
    segments: number;
    bytes: number;
    gaps: number;
  }[];
  segments: number;
  filesWritten: number;
  gaps: number;
  error?: { code: string; message: string };
  notices?: string[];
}

export interface StartDumpInput {
  stream: string;
  id: string;
  vhost?: string;
  app?: string;
  /** Default: the stream name. */
  outputStreamName?: string;
  /** Default: a fresh directory under the output root. */
  outputPath?: string;
  /** Default: `<outputPath>.xml` (beside the directory, so every file in outputPath is a dump file); null: none. */
  infoFile?: string | null;
  playlist?: string[];
  userData?: string;
  /** More body fields (the extensions: maxDurationSeconds, from, callbackUrl). */
  fields?: Record<string, unknown>;
}

export interface StartedDump {
  status: number;
  body: ApiResult['body'];
  vhost: string;
  app: string;
  stream: string;
  outputStreamName: string;
  id: string;
  outputPath: string;
  infoFile?: string;
}

/** A built worker: its entry point and the Node flags it ships with (node-flags.ts). */
export interface WorkerBuild {
  main: string;
  nodeFlags: readonly string[];
}

export interface ClusterWorker extends ServiceProcess {
  readonly id: string;
}

export interface Cluster {
  redis: TestRedis;
  gateway: ServiceProcess;
  gatewayUrl: string;
  accessToken: string;
  /** `Basic <base64(accessToken)>`. */
  authorization: string;
  workers: ClusterWorker[];
  outputRoot: string;
  queueName: string;
  redisPrefix: string;
  /** POST with Basic auth and a JSON body. */
  api(path: string, body?: unknown): Promise<ApiResult>;
  get(path: string): Promise<ApiResult>;
  startDump(input: StartDumpInput): Promise<StartedDump>;
  stopDump(input: {
    stream: string;
    outputStreamName?: string;
    id?: string;
    vhost?: string;
    app?: string;
  }): Promise<ApiResult>;
  /** The GET status endpoint for one dump. */
  status(
    vhost: string,
    app: string,
    stream: string,
    id: string,
  ): Promise<ApiResult & { dump?: DumpStatusBody }>;
  /**
   * Starts another worker process (id `worker-<n>`) and resolves once it is ready; `nodeArgs` come
   * after the cluster's `workerNodeArgs` (e.g. a CPU profiler for this worker alone).
   */
  addWorker(
    env?: Record<string, string>,
    options?: {
      nodeArgs?: string[];
      /**
       * The worker build to run when not this tree's (another build side by side): its entry
       * point and the Node flags it ships with.
       */
      build?: WorkerBuild;
    },
  ): Promise<ClusterWorker>;
  /** Resolves once the worker process logged that it takes jobs. */
  workerReady(worker: ClusterWorker): Promise<void>;
  /** Resolves once `/readyz` answers 200 (after a gateway or Redis restart). */
  gatewayReady(): Promise<void>;
  /** Tails of every process's output: attach to assertion messages. */
  logs(charsPerProcess?: number): string;
  /** Kills every process, removes the temp dirs; safe to call twice. */
  close(): Promise<void>;
}

const WORKER_READY = /"msg":"worker ready"/;

/**
 * A whole cluster as separate OS processes from the BUILT entry points: an ephemeral Redis, a
 * gateway on a free port and N workers, with a unique queue and key prefix, a temp output root
 * and timeouts short enough for tests (or the shipped ones). The origin is given as config.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  for (const entry of [GATEWAY_MAIN, WORKER_MAIN])
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npx turbo run build first`);
  const dir = await tempDir('cluster');
  const outputRoot = join(dir.path, 'out');
  await mkdir(outputRoot);
  const originsFile = join(dir.path, 'origins.json');
  await writeFile(originsFile, JSON.stringify(options.origins, null, 2));
  const redis = options.externalRedis?.redis ?? (await startTestRedis());
  const queueName = uniqueName('cluster');
  const redisPrefix = uniqueName('hlsdump-cluster');
  const accessToken = `ome:${uniqueName('secret')}`;
  const authorization = `Basic ${Buffer.from(accessToken).toString('base64')}`;
  const shared = {
    ...(options.externalRedis?.env ?? { REDIS_URL: redis.url }),
    QUEUE_NAME: queueName,
    REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: 'info',
    ...options.env,
  };

  const workers: ClusterWorker[] = [];
  let gateway: ServiceProcess | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await Promise.all([...workers, ...(gateway ? [gateway] : [])].map((p) => p.kill('SIGKILL')));
      if (!options.externalRedis) await redis.stop();
      await dir.remove();
    })());

  const logs = (chars = 4_000): string =>
    [gateway, ...workers].flatMap((p) => (p ? [p.tail(chars)] : [])).join('\n');

  const shippedTimeouts = options.timeouts === 'shipped';
  const workerNodeArgs = [
    ...(options.heapProbeDir === undefined ? [] : heapProbeNodeArgs()),
    ...(options.workerNodeArgs ?? []),
  ];
  const newWorker = (
    env: Record<string, string>,
    nodeArgs: string[] = [],
    build: WorkerBuild = { main: WORKER_MAIN, nodeFlags: WORKER_NODE_FLAGS },
  ): ClusterWorker => {
    const id = `worker-${workers.length}`;
    const worker = Object.assign(
      new ServiceProcess(
        id,
        build.main,
        {
          ...shared,
          WORKER_ID: id,
          ...(!shippedTimeouts && {
            HEARTBEAT_MS: '300',
            // A dead worker's dumps are taken over within about LOCK_DURATION_MS + STALLED_INTERVAL_MS.
            LOCK_DURATION_MS: '4000',
            STALLED_INTERVAL_MS: '1000',
            SHUTDOWN_TIMEOUT_MS: '8000',
          }),
          // Metrics and probes on a free port each (logged as metricsPort).
          METRICS_PORT: '0',
          ...(options.heapProbeDir !== undefined && heapProbeEnv(options.heapProbeDir)),
          ...options.workerEnv,
          ...env,
        },
        // As the worker ships (node-flags.ts), then the test's own flags.
        {
          nodeArgs: [...build.nodeFlags, ...workerNodeArgs, ...nodeArgs],
          logDir: options.logDir,
        },
      ),
      { id },
    );
    workers.push(worker);
    return worker;
  };
  const workerReady = async (worker: ClusterWorker): Promise<void> => {
    await worker.waitForOutput(WORKER_READY);
  };

  try {
    // PORT=0 first; a restart reuses the port it got, so gatewayUrl stays valid.
    gateway = new ServiceProcess(
      'gateway',
      options.gatewayMain ?? GATEWAY_MAIN,
      {
        ...shared,
        ACCESS_TOKEN: accessToken,
        PORT: '0',
        HOST: '127.0.0.1',
        OUTPUT_ROOTS: outputRoot,
        HLSDUMP_ORIGINS: originsFile,
        ...(!shippedTimeouts && {
          START_TIMEOUT_MS: '3000',
          STOP_TIMEOUT_MS: '8000',
          ORIGIN_TIMEOUT_MS: '2000',
          SHUTDOWN_TIMEOUT_MS: '3000',
        }),
        ...options.gatewayEnv,
      },
      { nodeArgs: options.gatewayNodeArgs, logDir: options.logDir },
    );
    const listening = await gateway.waitForOutput(/"address":\{[^}]*"port":(\d+)/);
    const port = listening[1]!;
    gateway.setEnv({ PORT: port });
    const gatewayUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < options.workers; i++) newWorker({});
    await Promise.all(workers.map(workerReady));
    const gatewayReady = async (): Promise<void> => {
      await waitFor(
        'the gateway to be ready',
        async () => (await fetch(`${gatewayUrl}/readyz`)).ok,
        {
          timeoutMs: 10_000,
          details: logs,
        },
      );
    };
    await gatewayReady();

    const call = async (method: string, path: string, body?: unknown): Promise<ApiResult> => {
      const response = await fetch(`${gatewayUrl}${path}`, {
        method,
        headers: {
          authorization,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: ApiResult['body'] = {};
      try {
        parsed = JSON.parse(text) as ApiResult['body'];
      } catch {
        parsed = { message: `(not JSON) ${text}` };
      }
      return { status: response.status, body: parsed };
    };
    const streamPath = (vhost: string, app: string, stream: string): string =>
      `/v1/vhosts/${encodeURIComponent(vhost)}/apps/${encodeURIComponent(app)}/streams/${encodeURIComponent(stream)}`;
    let dumpCount = 0;

    const cluster: Cluster = {
      redis,
      gateway,
      gatewayUrl,
      accessToken,
      authorization,
      workers,
      outputRoot,
      queueName,
      redisPrefix,
      api: (path, body) => call('POST', path, body),
      get: (path) => call('GET', path),
      async startDump(input) {
        const vhost = input.vhost ?? 'default';
        const app = input.app ?? 'app';
        const outputStreamName = input.outputStreamName ?? input.stream;
        const outputPath =
          input.outputPath ?? join(outputRoot, `${outputStreamName}-${input.id}-${++dumpCount}`);
        const infoFile =
          input.infoFile === null ? undefined : (input.infoFile ?? `${outputPath}.xml`);
        const result = await call('POST', `${streamPath(vhost, app, input.stream)}:startHlsDump`, {
          outputStreamName,
          id: input.id,
          outputPath,
          ...(infoFile !== undefined && { infoFile }),
          ...(input.playlist !== undefined && { playlist: input.playlist }),
          ...(input.userData !== undefined && { userData: input.userData }),
          ...input.fields,
        });
        return {
          ...result,
          vhost,
          app,
          stream: input.stream,
          outputStreamName,
          id: input.id,
          outputPath,
          ...(infoFile !== undefined && { infoFile }),
        };
      },
      stopDump: (input) =>
        call(
          'POST',
          `${streamPath(input.vhost ?? 'default', input.app ?? 'app', input.stream)}:stopHlsDump`,
          {
            outputStreamName: input.outputStreamName ?? input.stream,
            ...(input.id !== undefined && { id: input.id }),
          },
        ),
      async status(vhost, app, stream, id) {
        const result = await call(
          'GET',
          `${streamPath(vhost, app, stream)}/hlsDumps/${encodeURIComponent(id)}`,
        );
        return result.status === 200
          ? { ...result, dump: result.body.response as DumpStatusBody }
          : result;
      },
      async addWorker(env = {}, { nodeArgs, build } = {}) {
        const worker = newWorker(env, nodeArgs, build);
        await workerReady(worker);
        return worker;
      },
      workerReady,
      gatewayReady,
      logs,
      close,
    };
    return cluster;
  } catch (error) {
    const output = logs();
    await close();
    throw new Error(`cluster did not start: ${(error as Error).message}\n${output}`);
  }
}
