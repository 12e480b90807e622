import type { DumpRegistry, OutputPathLocks, RunHistory } from '@hlsdump/contracts';
import express, { type Express, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { basicAuth } from './auth.js';
import type { DumpService } from './dump-service.js';
import { RedisUnavailableError, RouteNotFoundError } from './errors.js';
import { errorHandler } from './http-errors.js';
import type { OriginProbe } from './origin-probe.js';
import type { Origins } from './origins.js';
import type { OutputRoots } from './path-policy.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { healthRoutes } from './routes/health.js';
import { getHlsDump, listHlsDumps } from './routes/hls-dumps.js';
import { operationsRoutes } from './routes/operations.js';
import { startHlsDump } from './routes/start-hls-dump.js';
import { stopHlsDump } from './routes/stop-hls-dump.js';
import { streamActions } from './routes/stream-action.js';
import type { ScalingFigure } from './scaling.js';

export interface AppDependencies {
  accessToken: string;
  origins: Origins;
  outputRoots: OutputRoots;
  registry: DumpRegistry;
  service: DumpService;
  probe: OriginProbe;
  logger: Logger;
  bodyLimitBytes?: number;
  /** Prometheus metrics at `/metrics` and of every request. */
  metrics?: GatewayMetrics;
  /** The autoscaler's figure at `/scaling`. */
  scaling?: () => Promise<ScalingFigure>;
  callbackAllowedHosts?: readonly string[];
  outputPaths?: OutputPathLocks;
  history?: RunHistory;
  /** The dump events subscriber: the API is ready only once it is connected too. */
  subscriber?: Redis;
}

const emptyBodies = new WeakSet<object>();

/** The gateway's Express app; listening is main.ts's business. */
export function createApp(deps: AppDependencies): Express {
  const { registry, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(logger));
  if (deps.metrics) app.use(deps.metrics.middleware());
  const others = deps.subscriber ? [deps.subscriber] : [];
  const redisUp = (): boolean =>
    registry.redis.status === 'ready' && others.every((other) => other.status === 'ready');
  app.use(healthRoutes(registry.redis, undefined, others));
  app.use(operationsRoutes({ metrics: deps.metrics, scaling: deps.scaling }));

  const redisReady: RequestHandler = (_req, _res, next) => {
    // No offline queue: while Redis is away every command fails at once; say so before trying.
    if (!redisUp()) throw new RedisUnavailableError();
    next();
  };
  app.use(
    '/v1',
    basicAuth(deps.accessToken),
    redisReady,
    // Any content type: OME's clients do not always send application/json. Non-objects are judged by the routes.
    express.json({
      limit: deps.bodyLimitBytes ?? 64 * 1024,
      type: () => true,
      strict: false,
      // body-parser turns an empty body into {}; the routes must see that nothing was sent.
      verify: (req, _res, buffer) => {
        if (buffer.length === 0) emptyBodies.add(req);
      },
    }),
    (req, _res, next) => {
      if (emptyBodies.has(req)) req.body = undefined;
      next();
    },
  );
  app.use(
    streamActions({
      startHlsDump: startHlsDump(deps),
      stopHlsDump: stopHlsDump(deps),
      hlsDumps: listHlsDumps(deps),
    }),
  );
  app.get('/v1/vhosts/:vhost/apps/:app/streams/:stream/hlsDumps/:id', getHlsDump(deps));
  app.use((req) => {
    throw new RouteNotFoundError(req.path);
  });
  app.use(
    errorHandler({
      redisReady: redisUp,
      log: (error, failure) => {
        const level = failure.status >= 500 ? 'error' : 'info';
        logger[level]({ err: error, status: failure.status }, failure.text);
      },
    }),
  );
  return app;
}

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms) },
        'request',
      );
    });
    next();
  };
}
