import type { DumpService } from '../dump-service.js';
import { MissingFieldError } from '../errors.js';
import type { Origins } from '../origins.js';
import { parseStopBody } from '../stop-request.js';
import type { StreamActionHandler } from './stream-action.js';

/** `:stopHlsDump` — one dump by id, or every active dump of the output stream. */
export function stopHlsDump(deps: { origins: Origins; service: DumpService }): StreamActionHandler {
  return async (req, res, { vhost, app }) => {
    const body = parseStopBody(req.body);
    deps.origins.app(vhost, app);
    if (!body.outputStreamName) throw new MissingFieldError('outputStreamName is required');
    const names = await deps.service.stop({
      vhost,
      app,
      outputStreamName: body.outputStreamName,
      ...(body.id !== undefined && { id: body.id }),
    });
    res.json({ statusCode: 200, message: 'OK', response: names });
  };
}
