import { loadConfigOrExit } from '@hlsdump/contracts';
import { loadConfig } from './config.js';
import { engineDumpFactory } from './engine.js';
import { createLogger } from './logger.js';
import { startWorkerService } from './worker-service.js';

/**
 * The worker process: configuration from the environment only (REDIS_URL, WORKER_ID,
 * WORKER_CONCURRENCY, QUEUE_NAME, REDIS_PREFIX, HEARTBEAT_MS, SHUTDOWN_TIMEOUT_MS, ...).
 * SIGTERM/SIGINT hand running dumps back to the queue and exit.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(loadConfig);
  const logger = createLogger(config.logLevel, 'hlsdump-worker');
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
    createDump: engineDumpFactory(config.limits),
    events: config.events,
    logger,
  });
  service.shutdown.installSignalHandlers();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hlsdump worker failed to start: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exit(1);
});
