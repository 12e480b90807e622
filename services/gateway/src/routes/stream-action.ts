import { Router, type Request, type Response } from 'express';
import { RouteNotFoundError } from '../errors.js';

export interface StreamNamesInPath {
  vhost: string;
  app: string;
  stream: string;
}

export type StreamActionHandler = (
  req: Request,
  res: Response,
  names: StreamNamesInPath,
) => Promise<void>;

/**
 * OME's `…/streams/{stream}:{action}` URLs. The action follows the stream's last `:`, so one route
 * takes the whole segment and splits it (stream names with dots and dashes stay intact; Express 5's
 * path syntax would need the `:` escaped).
 */
export function streamActions(actions: Record<string, StreamActionHandler>): Router {
  const router = Router();
  router.post('/v1/vhosts/:vhost/apps/:app/streams/:streamAction', async (req, res) => {
    const { vhost, app, streamAction } = req.params;
    const split = streamAction.lastIndexOf(':');
    const stream = streamAction.slice(0, split);
    const action = streamAction.slice(split + 1);
    const handler = split > 0 && Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!handler) throw new RouteNotFoundError(req.path);
    await handler(req, res, { vhost, app, stream });
  });
  return router;
}
