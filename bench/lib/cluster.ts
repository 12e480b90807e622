// The hlsdump cluster as operators run it: one gateway process and W worker processes on one Redis,
// each a real `node services/*/dist/main.js`, plus an HTTP client for OME's REST API.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEWAY_MAIN = join(ROOT, 'services/gateway/dist/main.js');
const WORKER_MAIN = join(ROOT, 'services/worker/dist/main.js');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a service and resolves once a line of its (pino) stdout contains `readyText`. */
async function spawnService(
  name,
  main,
  env,
  logPath,
  readyText,
  timeoutMs = 20_000,
  execArgv = [],
) {
  const child = spawn(process.execPath, [...execArgv, main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath, { flags: 'a' });
  child.stderr.pipe(log);
  await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in ${timeoutMs} ms; see ${logPath}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      buffered += chunk.toString();
      if (buffered.includes(readyText)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        log.write(buffered);
        child.stdout.pipe(log);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready; see ${logPath}`));
    });
  });
  return child;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(child, graceMs = 15_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** `apps`: app name → origin base URL (the test origin's), each with OME's LL-HLS layout. */
export async function startGateway({
  redisUrl,
  apps,
  outputRoot,
  runDir,
  queueName,
  prefix,
  token,
}) {
  const port = await freePort();
  const originsFile = join(runDir, 'origins.json');
  await writeFile(
    originsFile,
    JSON.stringify({
      vhosts: {
        default: {
          apps: Object.fromEntries(
            Object.entries(apps).map(([app, url]) => [
              app,
              { origin: `${url}/{app}/{outputStreamName}/`, defaultPlaylist: 'llhls.m3u8' },
            ]),
          ),
        },
      },
    }),
  );
  const child = await spawnService(
    'gateway',
    GATEWAY_MAIN,
    {
      REDIS_URL: redisUrl,
      ACCESS_TOKEN: token,
      PORT: String(port),
      HOST: '127.0.0.1',
      OUTPUT_ROOTS: outputRoot,
      HLSDUMP_ORIGINS: originsFile,
      START_TIMEOUT_MS: '30000',
      STOP_TIMEOUT_MS: '30000',
      QUEUE_NAME: queueName,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'info',
    },
    join(runDir, 'gateway.log'),
    'gateway listening',
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

const HEAP_PROBE = fileURLToPath(new URL('./heap-probe.mjs', import.meta.url));

/**
 * A worker process. The bench preloads heap-probe.mjs (live heap after GC on SIGUSR2) and, when
 * asked, V8's CPU profiler; the worker's code is the built service, unchanged.
 */
export async function startWorker({
  redisUrl,
  runDir,
  queueName,
  prefix,
  workerId,
  concurrency,
  nodeOptions,
  probeDir,
}) {
  return spawnService(
    `worker ${workerId}`,
    WORKER_MAIN,
    {
      REDIS_URL: redisUrl,
      WORKER_ID: workerId,
      WORKER_CONCURRENCY: String(concurrency),
      QUEUE_NAME: queueName,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'info',
      HLSDUMP_BENCH_PROBE_DIR: probeDir,
      // Several workers per host: each serves its metrics on a free port.
      METRICS_PORT: '0',
    },
    join(runDir, `${workerId}.log`),
    'worker ready',
    20_000,
    // Flags on the command line (--cpu-prof is refused in NODE_OPTIONS).
    ['--expose-gc', `--import=${HEAP_PROBE}`, ...(nodeOptions ? nodeOptions.split(' ') : [])],
  );
}

/** OME's REST API, timed per call. */
export function apiClient(gatewayUrl, token) {
  const agent = new Agent({ connections: 512, keepAliveTimeout: 30_000 });
  const auth = `Basic ${Buffer.from(token).toString('base64')}`;
  const post = async (path, body) => {
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
  const base = (app) => `/v1/vhosts/default/apps/${app}/streams`;
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
export async function inFlight(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}
