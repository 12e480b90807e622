import {
  DumpRegistry,
  OutputPathLocks,
  RunHistory,
  ShutdownManager,
  closeRedis,
  createRedisConnection,
  waitForRedisReady,
  type DumpJobData,
} from '@hlsdump/contracts';
import { Queue } from 'bullmq';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { createApp } from './create-app.js';
import { DumpEventHub } from './dump-events.js';
import { DumpService } from './dump-service.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { httpOriginProbe, type OriginProbe } from './origin-probe.js';
import { OutputRoots } from './path-policy.js';
import { scalingFigure } from './scaling.js';

export interface Gateway {
  app: Express;
  registry: DumpRegistry;
  queue: Queue<DumpJobData>;
  shutdown: ShutdownManager;
  /** The HTTP server main.ts listens with: closed first on shutdown. */
  attachServer(server: Server): void;
  /** Resolves once both Redis connections are ready (the gateway answers 503 until then). */
  ready(timeoutMs?: number): Promise<void>;
}

/**
 * Wires the gateway from its configuration: the producer connection (queue + registry, no
 * offline queue), the subscriber connection, the app, and the one shutdown order.
 */
export async function createGateway(
  config: GatewayConfig,
  options: { logger: Logger; probe?: OriginProbe },
): Promise<Gateway> {
  const { logger } = options;
  const producer = createRedisConnection(config.redisUrl, {
    role: 'producer',
    connectionName: 'hlsdump-gateway',
  });
  const subscriber = createRedisConnection(config.redisUrl, {
    role: 'subscriber',
    failFast: true,
    connectionName: 'hlsdump-gateway-events',
  });
  for (const [name, connection] of [
    ['producer', producer],
    ['subscriber', subscriber],
  ] as const) {
    connection.on('error', (error: Error) =>
      logger.warn({ connection: name, err: error.message }, 'redis connection error'),
    );
  }
  const registry = new DumpRegistry(producer, { prefix: config.redisPrefix });
  const queue = new Queue<DumpJobData>(config.queueName, {
    connection: producer,
    prefix: config.redisPrefix,
  });
  queue.on('error', (error) => logger.warn({ err: error.message }, 'queue error'));
  const events = new DumpEventHub(subscriber, registry.keys);
  const outputPaths = new OutputPathLocks(producer, registry.keys, 2 * config.startTimeoutMs);
  const history = new RunHistory(producer, registry.keys);
  const service = new DumpService({
    registry,
    queue,
    events,
    startTimeoutMs: config.startTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    logger,
    outputPaths,
    history,
  });
  const app = createApp({
    accessToken: config.accessToken,
    origins: config.origins,
    outputRoots: await OutputRoots.create(config.outputRoots),
    registry,
    subscriber,
    service,
    probe: options.probe ?? httpOriginProbe(config.originTimeoutMs),
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    metrics: new GatewayMetrics({ registry, queue }),
    scaling: () => scalingFigure(queue, config.workerCapacity),
    callbackAllowedHosts: config.callbackAllowedHosts,
    outputPaths,
    history,
  });
  const shutdown = new ShutdownManager({ timeoutMs: config.shutdownTimeoutMs, logger });
  let server: Server | undefined;
  // Stop taking requests (in-flight ones finish), then subscriber, then queue, then Redis.
  shutdown.register('http', () => (server ? closeServer(server) : undefined));
  shutdown.register('subscriber', () => closeRedis(subscriber));
  shutdown.register('queue', () => queue.close());
  shutdown.register('redis', () => closeRedis(producer));
  return {
    app,
    registry,
    queue,
    shutdown,
    attachServer: (listening) => {
      server = listening;
    },
    ready: async (timeoutMs) => {
      await Promise.all([
        waitForRedisReady(producer, timeoutMs),
        waitForRedisReady(subscriber, timeoutMs),
      ]);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
  });
}
