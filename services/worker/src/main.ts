import { loadConfigOrExit } from '@hlsdump/contracts';
import { loadConfig } from './config.js';
import { withCrashFault, withEventCrashFault } from './crash-fault.js';
import { engineDumpFactory } from './engine.js';
import { FairShareBalancer } from './fair-share.js';
import { startHealthServer } from './health-server.js';
import { instrumentedDumpFactory } from './instrumented-dump.js';
import { createLogger } from './logger.js';
import { WorkerMetrics } from './worker-metrics.js';
import { startWorkerService } from './worker-service.js';

/**
 * The worker process: configuration from the environment only (REDIS_URL, WORKER_ID,
 * WORKER_CONCURRENCY, QUEUE_NAME, REDIS_PREFIX, HEARTBEAT_MS, SHUTDOWN_TIMEOUT_MS, METRICS_PORT,
 * REBALANCE_INTERVAL_MS, ...). SIGTERM/SIGINT hand running dumps back to the queue and exit.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(loadConfig);
  const logger = createLogger(config.logLevel, 'hlsdump-worker');
  const balancer =
    config.rebalanceIntervalMs > 0
      ? new FairShareBalancer({
          redisPrefix: config.redisPrefix,
          queueName: config.queueName,
          workerId: config.workerId,
          maxConcurrency: config.concurrency,
          intervalMs: config.rebalanceIntervalMs,
          logger: logger.child({ workerId: config.workerId }),
          onShed: (count) => metrics.handedOff('rebalance', count),
        })
      : undefined;
  const metrics = new WorkerMetrics();
  const engine = engineDumpFactory(config.limits, {
    onRequest: (event) => metrics.observeOriginRequest(event),
    onRetry: (event) => metrics.observeOriginRetry(event),
  });
  const createDump = instrumentedDumpFactory(
    config.testCrashOnOutputStream === undefined
      ? engine
      : withCrashFault(engine, config.testCrashOnOutputStream),
    metrics,
  );
  const eventFaults = config.testCrashAfterEvents;
  const service = await startWorkerService({
    redisUrl: config.redisUrl,
    workerId: config.workerId,
    queueName: config.queueName,
    redisPrefix: config.redisPrefix,
    concurrency: config.concurrency,
    heartbeatMs: config.heartbeatMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    recordTtlSeconds: config.recordTtlSeconds,
    poisonAfterCrashes: config.poisonAfterCrashes,
    crashesClearedAfterMs: config.poisonClearAfterMs,
    createDump,
    events: config.events,
    ...(eventFaults && {
      decorateRunHooks: (hooks) => withEventCrashFault(hooks, eventFaults),
    }),
    logger,
    ...(balancer && {
      admit: {
        accepts: (held) => balancer.admits(held),
        // Asked at each refusal: it depends on what the refusing look found.
        refusedDelayMs: () => balancer.refusedDelayMs,
        untilRoom: (held) => balancer.untilRoom(held),
        capacity: () => balancer.capacity,
      },
      onWorker: (worker) => balancer.attach(worker),
    }),
  });
  const { worker, runs, registry } = service;
  metrics.watch({
    heldDumps: () => runs.size,
    dumpCapacity: () => balancer?.capacity ?? config.concurrency,
  });
  worker.on('closing', () => metrics.handedOff('shutdown', runs.size));
  balancer?.start(runs, registry.redis);
  const health = await startHealthServer({
    port: config.metricsPort,
    host: config.metricsHost,
    metrics: metrics.registry,
    redis: registry.redis,
    takingJobs: () => worker.isRunning() && worker.closing === undefined,
  });
  // Served until the very end: a probe during the hand-off sees 503, not a refused connection.
  service.shutdown.register('health server', () => health.close());
  logger.info({ workerId: config.workerId, metricsPort: health.port }, 'metrics listening');
  service.shutdown.installSignalHandlers();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hlsdump worker failed to start: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exit(1);
});
