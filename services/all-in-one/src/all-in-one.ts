import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ShutdownManager,
  describeRedisTarget,
  redisTargetEnv,
  startLocalRedisServer,
  type LocalRedisServer,
  type ShutdownLogger,
} from '@hlsdump/contracts';
import { WORKER_NODE_FLAGS } from '@hlsdump/worker/node-flags';
import { spawnService, type ChildService } from './child-service.js';
import type { AllInOneConfig } from './config.js';
import { DEMO_APP, DEMO_STREAM, DEMO_VHOST, startDemoOrigin } from './demo-origin.js';
import type { RunningSetup } from './instructions.js';

const REDIS_VARIABLES = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME'];

export interface AllInOne {
  setup: RunningSetup;
  shutdown: ShutdownManager;
  children: ChildService[];
  /** Our own redis-server, when REDIS_URL was not given. */
  redis?: LocalRedisServer;
  /** Settles when a child exits on its own (not during shutdown). */
  childDied: Promise<ChildService>;
}

const READY_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** The built entry point of a service package (its `./main` export). */
function serviceMain(pkg: string): string {
  return fileURLToPath(import.meta.resolve(`${pkg}/main`));
}

/**
 * Starts everything `npm start` runs, in order — Redis (ours unless REDIS_URL is given), the demo
 * origin, the gateway and a worker as child processes — and waits until the API is ready.
 * Shutdown runs the other way round: running dumps are stopped (finalized), then the children,
 * the origin, Redis. A failure part-way stops what had started, then rethrows.
 */
export async function startAllInOne(
  config: AllInOneConfig,
  options: {
    say: (line: string) => void;
    logger?: ShutdownLogger;
    /** Given the shutdown manager before anything starts, to install signal handlers at once. */
    onShutdown?: (shutdown: ShutdownManager) => void;
    /** Told of every process started, as soon as it is (a last-resort kill on exit). */
    onProcess?: (child: ChildProcess) => void;
  },
): Promise<AllInOne> {
  const { say } = options;
  const track = options.onProcess ?? (() => {});
  const logDir = config.logDir ?? (await mkdtemp(join(tmpdir(), 'hlsdump-')));
  await mkdir(logDir, { recursive: true });
  for (const root of config.outputRoots) await mkdir(root, { recursive: true });
  const shutdown = new ShutdownManager({
    timeoutMs: SHUTDOWN_TIMEOUT_MS,
    ...(options.logger && { logger: options.logger }),
  });
  options.onShutdown?.(shutdown);
  // Registered up front in shutdown order; each does nothing for what never started.
  let apiUrl: string | undefined;
  let gateway: ChildService | undefined;
  let worker: ChildService | undefined;
  let origin: Awaited<ReturnType<typeof startDemoOrigin>> | undefined;
  let redis: LocalRedisServer | undefined;
  const accessToken = config.accessToken;
  shutdown.register('dumps', () => (apiUrl ? stopDemoDumps(apiUrl, accessToken) : undefined));
  shutdown.register('gateway', () => gateway?.stop(5_000));
  shutdown.register('worker', () => worker?.stop(15_000));
  shutdown.register('origin', () => origin?.origin.close());
  shutdown.register('redis', () => redis?.stop('SIGTERM'));
  // A signal during start-up runs the shutdown: stop starting things.
  const proceed = (): void => {
    if (shutdown.isClosing) throw new Error('interrupted');
  };

  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      say('starting redis-server on a free port ...');
      redis = await startLocalRedisServer({
        log: createWriteStream(join(logDir, 'redis.log')),
        dir: logDir,
        detached: true,
      });
      track(redis.process);
      redisUrl = redis.url;
    }
    proceed();
    const originsFile = join(logDir, 'origins.json');
    origin = await startDemoOrigin({ port: config.demoPort, speed: config.demoSpeed, originsFile });
    say(`demo origin: ${origin.stream.masterUrl}`);
    proceed();

    // The children get exactly one way to Redis: ours, the given URL, or the given Sentinels.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !REDIS_VARIABLES.includes(name)),
    );
    const common = { ...inherited, ...redisTargetEnv(redisUrl) };
    gateway = spawnService(
      'gateway',
      serviceMain('@hlsdump/gateway'),
      {
        ...common,
        ACCESS_TOKEN: accessToken,
        PORT: String(config.port),
        HOST: config.host,
        OUTPUT_ROOTS: config.outputRoots.join(','),
        HLSDUMP_ORIGINS: originsFile,
      },
      join(logDir, 'gateway.log'),
    );
    track(gateway.process);
    worker = spawnService(
      'worker',
      serviceMain('@hlsdump/worker'),
      {
        ...common,
        WORKER_ID: process.env.WORKER_ID ?? `all-in-one-${hostname()}`,
        // Progress reaches the status endpoint with each heartbeat: make the demo's status lively.
        HEARTBEAT_MS: process.env.HEARTBEAT_MS ?? '1000',
        // Its /metrics on a free port (logged), unless one is asked for: never a clash on a shared host.
        METRICS_PORT: process.env.METRICS_PORT ?? '0',
      },
      join(logDir, 'worker.log'),
      WORKER_NODE_FLAGS,
    );
    track(worker.process);
    say(`gateway and worker starting; logs in ${logDir}`);
    const listening = await gateway.waitForLine(/"msg":"gateway listening"/);
    const port = /"port":(\d+)/.exec(listening.input ?? '')?.[1] ?? String(config.port);
    const host = ['0.0.0.0', '::', ''].includes(config.host)
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
    apiUrl = `http://${host}:${port}`;
    await Promise.all([worker.waitForLine(/"msg":"worker ready"/), waitForReady(apiUrl, gateway)]);
    proceed();

    const children = [gateway, worker];
    const childDied = Promise.race(children.map((child) => child.exited.then(() => child))).then(
      async (child) => {
        // During shutdown an exit is expected: never settle then.
        if (shutdown.isClosing) await new Promise(() => {});
        return child;
      },
    );
    return {
      setup: {
        apiUrl,
        accessToken,
        redisUrl: describeRedisTarget(redisUrl),
        ownRedis: redis !== undefined,
        masterUrl: origin.stream.masterUrl,
        demoSpeed: config.demoSpeed,
        originsFile,
        originsJson: origin.originsJson,
        outputRoots: config.outputRoots,
        logDir,
        logFiles: [...(redis ? ['redis.log'] : []), 'gateway.log', 'worker.log'],
        dumpId: `demo-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`,
      },
      shutdown,
      children,
      childDied,
      ...(redis && { redis }),
    };
  } catch (error) {
    await shutdown.close();
    throw error;
  }
}

/** Polls `/readyz` (the gateway and its Redis) until 200. */
async function waitForReady(apiUrl: string, gateway: ChildService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void gateway.exited.then(() => (exited = true));
  for (;;) {
    const ready = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (exited) throw new Error(`the gateway exited:\n${gateway.tail()}`);
    if (Date.now() > deadline)
      throw new Error(
        `the gateway was not ready within ${READY_TIMEOUT_MS} ms:\n${gateway.tail()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The demo origin goes away with us, so its dumps cannot go on elsewhere: stop them (every id of
 * the demo stream) so their chunklists are final and their infoFiles say Completed.
 */
async function stopDemoDumps(apiUrl: string, accessToken: string): Promise<void> {
  const response = await fetch(
    `${apiUrl}/v1/vhosts/${DEMO_VHOST}/apps/${DEMO_APP}/streams/${DEMO_STREAM}:stopHlsDump`,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(accessToken).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ outputStreamName: DEMO_STREAM }),
      signal: AbortSignal.timeout(12_000),
    },
  );
  await response.text();
  // 404: nothing was running.
  if (!response.ok && response.status !== 404)
    throw new Error(`stopping the running dumps answered ${response.status}`);
}
