import {
  addDumpJob,
  dumpKeyOf,
  isFinalState,
  jobIdFor,
  newRunId,
  publishDumpEvent,
  publishWorkerControl,
  startJob,
  UNKNOWN_FAILURE,
  type DumpFailureInfo,
  type DumpJobData,
  type DumpRecord,
  type DumpRegistry,
  type DumpStartParams,
  type OutputPathLocks,
  type RunHistory,
} from '@hlsdump/contracts';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { DumpEventHub, EventWatch } from './dump-events.js';
import {
  NoActiveDumpError,
  OutputPathInUseError,
  StartTimeoutError,
  StartWithdrawnError,
  StopNotAcknowledgedError,
  WorkerStartError,
} from './errors.js';

export interface DumpServiceOptions {
  registry: DumpRegistry;
  queue: Queue<DumpJobData>;
  events: DumpEventHub;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  logger: Logger;
  /** One active dump per outputPath (docs/api.md#start-checks, check 8), decided atomically here. */
  outputPaths?: OutputPathLocks;
  /** Keeps an ended run of a reused id listed. */
  history?: RunHistory;
}

type StartOutcome = { started: true } | { started: false; error: Error } | undefined;

/** Starting and stopping dumps: the registry, the queue and the workers' acknowledgements. */
export class DumpService {
  constructor(private readonly o: DumpServiceOptions) {}

  /**
   * reserve → enqueue → wait for the worker's `running`. Resolves once the dump runs; throws
   * StartTimeoutError (after withdrawing: the dump will never start later) or the worker's failure.
   */
  async start(params: DumpStartParams): Promise<void> {
    const { registry, queue, events } = this.o;
    const dumpKey = dumpKeyOf(params);
    const runId = newRunId();
    const jobId = jobIdFor(dumpKey, runId);
    const streamPath = `${params.vhost}/${params.app}/${params.outputStreamName}`;
    const log = this.o.logger.child({ dumpKey, dumpId: params.id, runId });
    const deadline = Date.now() + this.o.startTimeoutMs;
    // Subscribed before the job exists, so its `running` cannot slip past; the subscription is
    // confirmed while the path is locked and the dump reserved, awaited before the job is added.
    const watching = events.watch([dumpKey]);
    // Its failure is thrown where it is awaited; a start refused before then must not crash on it.
    watching.catch(() => {});
    let watch: EventWatch | undefined;
    try {
      // The ended run of a reused id is kept listed while the path is taken, not after: archiving
      // it is harmless when the path is refused (the listing shows each run once).
      const archived = this.o.history?.archive(dumpKey);
      archived?.catch(() => {}); // thrown where it is awaited
      const path = await this.o.outputPaths?.acquire(params.outputPath, {
        dumpKey,
        runId,
        id: params.id,
        streamPath,
      });
      if (path && !path.ok) throw new OutputPathInUseError(params.outputPath, path.holder);
      try {
        await archived;
        await registry.reserve({ ...params, dumpKey, runId, jobId });
      } catch (error) {
        await this.o.outputPaths?.release(params.outputPath, runId).catch(() => {});
        throw error;
      }
      try {
        watch = await watching;
        await addDumpJob(queue, startJob({ dumpKey, runId, jobId }));
      } catch (error) {
        await registry.withdraw(dumpKey, runId).catch(() => {});
        throw error;
      }
      log.info({ jobId }, 'dump enqueued');
      let outcome = startOutcomeOf(await registry.get(dumpKey), runId, streamPath);
      while (!outcome) {
        const event = await watch.next((e) => e.runId === runId, deadline);
        if (!event) break;
        if (event.type === 'running' || event.type === 'stopped') outcome = { started: true };
        else if (event.type === 'withdrawn')
          outcome = { started: false, error: new StartWithdrawnError() };
        else
          outcome = {
            started: false,
            error: workerStartError(event.error, streamPath),
          };
      }
      outcome ??= await this.withdraw(params, dumpKey, runId, jobId, streamPath);
      if (!outcome.started) throw outcome.error;
      log.info('dump running');
    } finally {
      if (watch) watch.close();
      else void watching.then((unused) => unused.close()).catch(() => {});
    }
  }

  /** The start timed out: make sure the dump never starts, unless it already did. */
  private async withdraw(
    params: DumpStartParams,
    dumpKey: string,
    runId: string,
    jobId: string,
    streamPath: string,
  ): Promise<{ started: true } | { started: false; error: Error }> {
    const { registry, queue } = this.o;
    const timeout = {
      started: false as const,
      error: new StartTimeoutError(this.o.startTimeoutMs),
    };
    const result = await registry.withdraw(dumpKey, runId);
    this.o.logger.warn(
      { dumpKey, dumpId: params.id, runId, outcome: result.outcome },
      'start timed out',
    );
    switch (result.outcome) {
      case 'WITHDRAWN':
        // The record already refuses any claim; removing the job only saves a worker the trip.
        await queue.remove(jobId).catch(() => {});
        await publishDumpEvent(registry.redis, registry.keys, {
          type: 'withdrawn',
          dumpKey,
          runId,
        }).catch(() => {});
        return timeout;
      case 'CANCELLING':
        await publishWorkerControl(registry.redis, registry.keys, result.owner, {
          type: 'cancel',
          dumpKey,
          runId,
        }).catch(() => {});
        return timeout;
      case 'PROGRESSED':
        return startOutcomeOf(await registry.get(dumpKey), runId, streamPath) ?? timeout;
      default:
        return timeout;
    }
  }

  /**
   * Stops one dump (id) or every active dump of an output stream: the stop is recorded durably,
   * then published to the owners; resolves once every owner acknowledged.
   */
  async stop(target: {
    vhost: string;
    app: string;
    outputStreamName: string;
    id?: string;
  }): Promise<string[]> {
    const { registry, queue, events } = this.o;
    const { vhost, app, outputStreamName } = target;
    const streamPath = `${vhost}/${app}/${outputStreamName}`;
    const label = target.id === undefined ? streamPath : `${streamPath}/${target.id}`;
    // One id: whether it is active is asked in the same step that records its stop (stopAndTell).
    const ids =
      target.id === undefined
        ? await registry.activeIds(vhost, app, outputStreamName)
        : [target.id];
    if (ids.length === 0) throw new NoActiveDumpError(label);
    const dumps = ids.map((id) => {
      const identity = { vhost, app, outputStreamName, id };
      return { identity, dumpKey: dumpKeyOf(identity) };
    });
    const deadline = Date.now() + this.o.stopTimeoutMs;
    // Listening before any owner is told, so no acknowledgement slips past.
    let watch: EventWatch;
    try {
      watch = await events.watch(dumps.map((d) => d.dumpKey));
    } catch (error) {
      // A dump that is not active is a 404 whether or not the events can be heard.
      if (
        target.id !== undefined &&
        !(await registry.isActive(vhost, app, outputStreamName, target.id))
      )
        throw new NoActiveDumpError(label);
      throw error;
    }
    try {
      const pending = new Map<string, string>();
      let matched = 0;
      for (const { identity, dumpKey } of dumps) {
        const result = await registry.stopAndTell(dumpKey, identity, {
          ifActive: target.id !== undefined,
        });
        if (result.outcome === 'INACTIVE') continue;
        this.o.logger.info({ dumpKey, outcome: result.outcome }, 'stop requested');
        switch (result.outcome) {
          case 'GONE':
            break;
          case 'ENDED':
            matched++;
            break;
          case 'STOPPED_QUEUED':
            // Its waiting start request was told; the job goes only to save a worker the trip.
            matched++;
            await queue.remove(result.jobId).catch(() => {});
            break;
          case 'PENDING':
          case 'REQUESTED':
            // REQUESTED: its owner was told; PENDING: whoever resumes it finalizes it.
            matched++;
            pending.set(dumpKey, result.runId);
            break;
        }
      }
      if (matched === 0) throw new NoActiveDumpError(label);
      for (const [dumpKey, runId] of pending) {
        const event = await watch.next(
          (e) => e.dumpKey === dumpKey && e.runId === runId && e.type !== 'running',
          deadline,
        );
        if (event) continue;
        // An event can be lost (subscriber reconnect); the record cannot.
        const record = await registry.get(dumpKey);
        if (record?.runId === runId && isFinalState(record.state)) continue;
        throw new StopNotAcknowledgedError();
      }
      return [outputStreamName];
    } finally {
      watch.close();
    }
  }
}

/** What a record says about a start, if it says anything final yet. */
function startOutcomeOf(
  record: DumpRecord | null,
  runId: string,
  streamPath: string,
): StartOutcome {
  if (!record || record.runId !== runId) return undefined;
  switch (record.state) {
    case 'Running':
    case 'Stopping':
    case 'Completed':
      return { started: true };
    case 'Error':
      // It ran, then failed: the start itself succeeded.
      if (record.runningAt !== undefined) return { started: true };
      return {
        started: false,
        error: workerStartError(record.error, streamPath),
      };
    case 'Withdrawn':
      return { started: false, error: new StartWithdrawnError() };
    default:
      return undefined;
  }
}

function workerStartError(
  failure: DumpFailureInfo | undefined,
  streamPath: string,
): WorkerStartError {
  const { code, message } = failure ?? UNKNOWN_FAILURE;
  return new WorkerStartError(code, message, streamPath);
}
