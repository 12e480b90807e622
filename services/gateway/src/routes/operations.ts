import { Router } from 'express';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { openApiDocument } from '../openapi.js';
import type { ScalingFigure } from '../scaling.js';

export interface OperationsDeps {
  metrics?: GatewayMetrics;
  /** The autoscaler's figure; rejects while Redis is away (503). */
  scaling?: () => Promise<ScalingFigure>;
}

/** `/metrics`, `/scaling` and `/openapi.json`: unauthenticated, counts and descriptions only. */
export function operationsRoutes(deps: OperationsDeps): Router {
  const router = Router();
  const { metrics, scaling } = deps;
  if (metrics) {
    router.get('/metrics', async (_req, res) => {
      const text = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(text);
    });
  }
  if (scaling) {
    router.get('/scaling', async (_req, res) => {
      res.json(await scaling());
    });
  }
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  return router;
}
