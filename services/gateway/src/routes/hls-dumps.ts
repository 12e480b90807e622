import { isFinalState, type DumpRecord, type DumpRegistry } from '@hlsdump/contracts';
import type { RequestHandler } from 'express';
import { dumpStatus } from '../dump-status.js';
import { DumpNotFoundError } from '../errors.js';
import type { Origins } from '../origins.js';
import { parseStopBody } from '../start-request.js';
import type { StreamActionHandler } from './stream-action.js';

interface ListDeps {
  origins: Origins;
  registry: DumpRegistry;
}

/** A stream in the path matches a dump's input stream or its output stream name. */
const onStream = (record: DumpRecord, vhost: string, app: string, stream: string): boolean =>
  record.vhost === vhost &&
  record.app === app &&
  (record.stream === stream || record.outputStreamName === stream);

/** `:hlsDumps` (OME's undocumented list): the stream's dumps, optionally filtered by outputStreamName / id. */
export function listHlsDumps(deps: ListDeps): StreamActionHandler {
  return async (req, res, { vhost, app, stream }) => {
    const filter = req.body === undefined ? {} : parseStopBody(req.body);
    deps.origins.app(vhost, app);
    const records = (await deps.registry.list()).filter(
      (r) =>
        onStream(r, vhost, app, stream) &&
        (filter.outputStreamName === undefined || r.outputStreamName === filter.outputStreamName) &&
        (filter.id === undefined || r.id === filter.id),
    );
    res.json({ statusCode: 200, message: 'OK', response: records.map(dumpStatus) });
  };
}

/** `GET …/streams/{stream}/hlsDumps/{id}`: one dump's status; the active one wins over ended ones. */
export function getHlsDump(
  deps: ListDeps,
): RequestHandler<{ vhost: string; app: string; stream: string; id: string }> {
  return async (req, res) => {
    const { vhost, app, stream, id } = req.params;
    deps.origins.app(vhost, app);
    const outputStreamName =
      typeof req.query.outputStreamName === 'string' ? req.query.outputStreamName : undefined;
    const candidates = (await deps.registry.list())
      .filter(
        (r) =>
          r.id === id &&
          onStream(r, vhost, app, stream) &&
          (outputStreamName === undefined || r.outputStreamName === outputStreamName),
      )
      .sort(
        (a, b) =>
          Number(isFinalState(a.state)) - Number(isFinalState(b.state)) ||
          b.createdAt - a.createdAt,
      );
    const record = candidates[0];
    if (!record) throw new DumpNotFoundError(`${vhost}/${app}/${stream}/${id}`);
    res.json({ statusCode: 200, message: 'OK', response: dumpStatus(record) });
  };
}
