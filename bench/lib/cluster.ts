// The hlsdump cluster as operators run it: one gateway process and W worker processes on one Redis,
// each a real `node services/*/dist/main.js` logging to a file of the run, plus an HTTP client for
// OME's REST API. (The tests' cluster, test/support/cluster.ts, keeps output in memory and sets
// test timeouts; a bench worker runs for many minutes with the shipped ones and preloads probes.)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '@hlsdump/contracts';
import { Agent, request } from 'undici';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEWAY_MAIN = join(ROOT, 'services/gateway/dist/main.js');
const WORKER_MAIN = join(ROOT, 'services/worker/dist/main.js');
const HEAP_PROBE = fileURLToPath(new URL('./heap-probe.mjs', import.meta.url));

/** A service process; its pid is known (spawn failures throw before it is returned). */
export type ServiceChild = ChildProcess & { pid: number };

/** Spawns a service and resolves once a line of its (pino) stdout contains `readyText`. */
async function spawnService(
  name: string,
  main: string,
  env: Record<string, string>,
  logPath: string,
  readyText: string,
  execArgv: string[] = [],
  timeoutMs = 20_000,
): Promise<ServiceChild> {
  const child = spawn(process.execPath, [...execArgv, main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath, { flags: 'a' });
  child.stderr.pipe(log);
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in ${timeoutMs} ms; see ${logPath}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!buffered.includes(readyText)) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      log.write(buffered);
      child.stdout.pipe(log);
      resolve();
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready; see ${logPath}`));
    });
  });
  return child as ServiceChild;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface GatewayOptions {
  redisUrl: string;
  /** App name → origin base URL (the test origin's), each with OME's LL-HLS layout. */
  apps: Record<string, string>;
  outputRoot: string;
  runDir: string;
  queueName: string;
  prefix: string;
  token: string;
}

export async function startGateway(
  options: GatewayOptions,
): Promise<{ child: ServiceChild; url: string }> {
  const port = await findFreePort();
  const originsFile = join(options.runDir, 'origins.json');
  const apps = Object.entries(options.apps).map(([app, url]) => [
    app,
    { origin: `${url}/{app}/{outputStreamName}/`, defaultPlaylist: 'llhls.m3u8' },
  ]);
  await writeFile(
    originsFile,
    JSON.stringify({ vhosts: { default: { apps: Object.fromEntries(apps) } } }),
  );
  const child = await spawnService(
    'gateway',
    GATEWAY_MAIN,
    {
      REDIS_URL: options.redisUrl,
      ACCESS_TOKEN: options.token,
      PORT: String(port),
      HOST: '127.0.0.1',
      OUTPUT_ROOTS: options.outputRoot,
      HLSDUMP_ORIGINS: originsFile,
      START_TIMEOUT_MS: '30000',
      STOP_TIMEOUT_MS: '30000',
      QUEUE_NAME: options.queueName,
      REDIS_PREFIX: options.prefix,
      LOG_LEVEL: 'info',
    },
    join(options.runDir, 'gateway.log'),
    'gateway listening',
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

export interface WorkerOptions {
  redisUrl: string;
  runDir: string;
  queueName: string;
  prefix: string;
  workerId: string;
  concurrency: number;
  /** More node flags, space-separated (e.g. `--cpu-prof --cpu-prof-dir=...`). */
  nodeOptions?: string | undefined;
  probeDir: string;
}

/**
 * A worker process. The bench preloads heap-probe.mjs (live heap after GC on SIGUSR2) and, when
 * asked, V8's CPU profiler; the worker's code is the built service, unchanged.
 */
export function startWorker(options: WorkerOptions): Promise<ServiceChild> {
  return spawnService(
    `worker ${options.workerId}`,
    WORKER_MAIN,
    {
      REDIS_URL: options.redisUrl,
      WORKER_ID: options.workerId,
      WORKER_CONCURRENCY: String(options.concurrency),
      QUEUE_NAME: options.queueName,
      REDIS_PREFIX: options.prefix,
      LOG_LEVEL: 'info',
      HLSDUMP_BENCH_PROBE_DIR: options.probeDir,
      // Several workers per host: each serves its metrics on a free port.
      METRICS_PORT: '0',
    },
    join(options.runDir, `${options.workerId}.log`),
    'worker ready',
    // Flags on the command line (--cpu-prof is refused in NODE_OPTIONS).
    [
      '--expose-gc',
      `--import=${HEAP_PROBE}`,
      ...(options.nodeOptions ? options.nodeOptions.split(' ') : []),
    ],
  );
}

export interface ApiReply {
  status: number;
  ms: number;
  text: string;
}

export interface DumpTarget {
  id: string;
  outputPath: string;
  infoFile: string;
}

export interface ApiClient {
  start(stream: string, dump: DumpTarget, app?: string): Promise<ApiReply>;
  stop(stream: string, id: string, app?: string): Promise<ApiReply>;
  close(): Promise<void>;
}

/** OME's REST API, timed per call. */
export function apiClient(gatewayUrl: string, token: string): ApiClient {
  const agent = new Agent({ connections: 512, keepAliveTimeout: 30_000 });
  const auth = `Basic ${Buffer.from(token).toString('base64')}`;
  const post = async (path: string, body: unknown): Promise<ApiReply> => {
    const t0 = performance.now();
    const res = await request(`${gatewayUrl}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, ms: performance.now() - t0, text };
  };
  const base = (app: string) => `/v1/vhosts/default/apps/${app}/streams`;
  return {
    start: (stream, { id, outputPath, infoFile }, app = 'app') =>
      post(`${base(app)}/${stream}:startHlsDump`, {
        outputStreamName: stream,
        id,
        outputPath,
        infoFile,
      }),
    stop: (stream, id, app = 'app') =>
      post(`${base(app)}/${stream}:stopHlsDump`, { outputStreamName: stream, id }),
    close: () => agent.close(),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in order. */
export async function inFlight<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
