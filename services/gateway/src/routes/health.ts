import { withTimeout } from '@hlsdump/contracts';
import { Router } from 'express';
import type { Redis } from 'ioredis';

/**
 * `/healthz`: the process answers. `/readyz`: and Redis too, on the commands connection (pinged)
 * and on `others` (the events subscriber: a start waits on it, so until it has reconnected after
 * a Redis failover the API would still answer 503).
 */
export function healthRoutes(redis: Redis, pingTimeoutMs = 1_000, others: Redis[] = []): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let ready = false;
    if (redis.status === 'ready' && others.every((other) => other.status === 'ready')) {
      ready = await withTimeout(
        redis.ping().then(
          () => true,
          () => false,
        ),
        pingTimeoutMs,
        false,
      );
    }
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'redis unavailable' });
  });
  return router;
}
