import {
  isFinalState,
  type DumpRecord,
  type DumpRegistry,
  type RunHistory,
} from '@hlsdump/contracts';
import type { RequestHandler } from 'express';
import { dumpStatus } from '../dump-status.js';
import { DumpNotFoundError } from '../errors.js';
import type { Origins } from '../origins.js';
import { parseStopBody } from '../stop-request.js';
import type { StreamActionHandler } from './stream-action.js';

interface ListDeps {
  origins: Origins;
  registry: DumpRegistry;
  history?: RunHistory;
}

/** Every run the registry knows: current records and earlier runs of reused ids, each once. */
async function allRuns(deps: ListDeps): Promise<DumpRecord[]> {
  const current = await deps.registry.list();
  const seen = new Set(current.map((r) => `${r.dumpKey}:${r.runId}`));
  const earlier = (await deps.history?.list()) ?? [];
  return [...current, ...earlier.filter((r) => !seen.has(`${r.dumpKey}:${r.runId}`))].sort(
    (a, b) => a.createdAt - b.createdAt,
  );
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
    const records = (await allRuns(deps)).filter(
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
    const candidates = (await allRuns(deps))
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
    // Ours: every run of the id still on record, newest first (an id is reusable once ended).
    const runs = [...candidates].sort((a, b) => b.createdAt - a.createdAt).map(dumpStatus);
    res.json({ statusCode: 200, message: 'OK', response: { ...dumpStatus(record), runs } });
  };
}
