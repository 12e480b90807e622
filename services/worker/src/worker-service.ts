import {
  DumpRegistry,
  EventOutbox,
  OutputPathLocks,
  ShutdownManager,
  closeRedis,
  addDumpJob,
  createRedisConnection,
  parseDumpJobData,
  parseMessage,
  waitForRedisReady,
  watchdogJob,
  workerControlSchema,
  type DumpJobData,
  type DumpRecord,
  type RedisTarget,
} from '@hlsdump/contracts';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { DEFAULT_LOCK_DURATION_MS, DEFAULT_STALLED_INTERVAL_MS } from './config.js';
import { DumpRun, type RunResult } from './dump-run.js';
import type { CreateDump } from './engine.js';
import { DumpNotifier } from './dump-notifier.js';
import { FetchGate } from './fetch-gate.js';
import { trackReadySince } from './redis-ready-since.js';
import type { RunHooksFactory } from './run-hooks.js';
import { WebhookDeliverer, type WebhookDelivererOptions } from './webhook-deliverer.js';
import { TimerGrid } from './aligned-timer.js';
import { StartsInProgress } from './starts-in-progress.js';

export interface WorkerServiceOptions {
  /** A redis:// URL or a Sentinel-monitored master. */
  redisUrl: RedisTarget;
  workerId: string;
  queueName: string;
  redisPrefix: string;
  concurrency: number;
  heartbeatMs: number;
  shutdownTimeoutMs: number;
  lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died (their lock expired). */
  stalledIntervalMs?: number;
  recordTtlSeconds?: number;
  /** Runs in a row dying with their worker after which a dump ends in Error (unset: never). */
  poisonAfterCrashes?: number;
  /** A run Running this long clears its dump's count of crashes (unset: only a hand-off does). */
  crashesClearedAfterMs?: number;
  createDump: CreateDump;
  logger: Logger;
  /**
   * Whether a fetched job may start with `held` dumps running here. If not, it goes back to the
   * queue delayed by `refusedDelayMs()`, and this worker fetches nothing until `untilRoom`
   * resolves (given how many it holds then).
   */
  admit?: {
    accepts: (held: number) => Promise<boolean>;
    refusedDelayMs: () => number;
    untilRoom: (held: () => number) => Promise<void>;
    /** The most dumps this worker takes now (its fair share): it fetches one job beyond it. */
    capacity: () => number;
  };
  /** Called with the BullMQ worker before it takes a job (balancing listens for its closing). */
  onWorker?: (worker: Worker<DumpJobData, RunResult>) => void;
  /** Dump events (docs/api.md#events): WEBHOOK_URL for every dump, WEBHOOK_SECRET, delivery tuning. */
  events?: { webhookUrl?: string } & Partial<Omit<WebhookDelivererOptions, 'outbox' | 'logger'>>;
  /** Wraps what each run tells its state changes to (the test-only crash faults). */
  decorateRunHooks?: (hooks: RunHooksFactory) => RunHooksFactory;
}

export interface WorkerService {
  readonly workerId: string;
  readonly worker: Worker<DumpJobData, RunResult>;
  readonly registry: DumpRegistry;
  readonly shutdown: ShutdownManager;
  /** The dumps this worker runs now, by dumpKey. */
  readonly runs: ReadonlyMap<string, DumpRun>;
}

/**
 * A worker process's whole life: the BullMQ worker taking dump jobs, the control subscriber
 * (stops and cancels addressed to this worker), heartbeats, and the one shutdown order:
 * worker (hand dumps back), heartbeat, subscriber, Redis.
 */
export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { workerId, logger } = options;
  const log = logger.child({ workerId });
  const commands = createRedisConnection(options.redisUrl, {
    role: 'worker',
    connectionName: `hlsdump-worker-${workerId}`,
  });
  const bullConnection = createRedisConnection(options.redisUrl, {
    role: 'worker',
    connectionName: `hlsdump-worker-queue-${workerId}`,
  });
  const subscriber = createRedisConnection(options.redisUrl, {
    role: 'subscriber',
    connectionName: `hlsdump-worker-control-${workerId}`,
  });
  for (const [name, connection] of [
    ['commands', commands],
    ['queue', bullConnection],
    ['subscriber', subscriber],
  ] as const) {
    connection.on('error', (error: Error) =>
      log.warn({ connection: name, err: error.message }, 'redis connection error'),
    );
  }
  const redisReadySince = trackReadySince(commands);
  const registry = new DumpRegistry(commands, {
    prefix: options.redisPrefix,
    ...(options.recordTtlSeconds !== undefined && { recordTtlSeconds: options.recordTtlSeconds }),
  });
  const outbox = new EventOutbox(commands, registry.keys);
  const notifier = new DumpNotifier({
    ...(options.events?.webhookUrl !== undefined && { webhookUrl: options.events.webhookUrl }),
    outputPaths: new OutputPathLocks(commands, registry.keys),
  });
  // The heartbeat, the deliverer's cap and an idle balancer fall due together (aligned-timer.ts).
  const grid = new TimerGrid(workerId);
  const deliverer = new WebhookDeliverer({ ...options.events, outbox, logger: log, grid });
  // The deliverer sleeps until something may be due: the events a write of ours put in the
  // outbox wake it at once.
  const told: RunHooksFactory = (record) => {
    const inner = notifier.hooks(record);
    return {
      ...inner,
      recorded: (batch) => {
        inner.recorded(batch);
        if (batch) deliverer.wake();
      },
    };
  };
  const hooks = options.decorateRunHooks?.(told) ?? told;
  const runs = new Map<string, DumpRun>();
  const starts = new StartsInProgress();
  /** Jobs fetched whose admission (options.admit) is still being judged. */
  let judging = 0;
  let closing = false;
  const lockDurationMs = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
  let queue: Queue<DumpJobData> | undefined;
  const requeue = async (record: DumpRecord): Promise<void> => {
    queue ??= new Queue<DumpJobData>(options.queueName, {
      connection: bullConnection,
      prefix: options.redisPrefix,
    });
    await addDumpJob(queue, watchdogJob(record, lockDurationMs));
  };

  subscriber.on('message', (_channel: string, payload: string) => {
    const message = parseMessage(workerControlSchema, payload);
    const run = message && runs.get(message.dumpKey);
    if (!message || !run || run.runId !== message.runId) return;
    log.info({ dumpKey: message.dumpKey, type: message.type }, 'control message');
    if (message.type === 'stop') run.requestStop();
    else run.cancel();
  });
  // Subscribed before taking jobs: a stop for a dump we own can never arrive unheard.
  await subscriber.subscribe(registry.keys.worker(workerId));

  const processor = async (
    job: Job<DumpJobData, RunResult>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<RunResult> => {
    // When the fetch that took the job left (BullMQ's processedOn) and when it reached the
    // processor: how a start's hand-over divides between the queue and this worker's loop.
    log.info({ jobId: job.id, fetchedAt: job.processedOn }, 'job taken');
    if (closing) {
      // Fetched while shutting down: untouched, straight back for another worker.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    if (options.admit) {
      // The jobs still being judged count as held: each judgement awaits a look at the queue,
      // and the judgements of a burst, each on its own stale count, would overshoot the share
      // (the balancer would then hand the surplus back at once).
      const held = runs.size + judging;
      judging++;
      let admitted: boolean;
      try {
        admitted = await options.admit.accepts(held);
      } finally {
        judging--;
        // The share that look found: what the worker fetches from now on (fetch-gate.ts).
        gate.share(options.admit.capacity());
      }
      if (!admitted) {
        // Over this worker's share: untouched, back to the queue for a worker with room, which
        // this worker lets take it by fetching nothing for a while (fetch-gate.ts).
        const delayMs = options.admit.refusedDelayMs();
        log.info({ jobId: job.id, held, delayMs }, 'job refused over the fair share');
        const holding = gate.hold(options.admit.untilRoom(() => runs.size + judging));
        try {
          await job.moveToDelayed(Date.now() + delayMs, token);
        } finally {
          await holding;
        }
        throw new DelayedError();
      }
    }
    const { dumpKey, runId } = parseDumpJobData(job.data);
    const run = new DumpRun(
      {
        registry,
        workerId,
        createDump: options.createDump,
        logger: log,
        staleAfterMs: lockDurationMs,
        // Well inside the takeover delay: a frozen owner re-checks before anyone may take over.
        leaseMs: lockDurationMs / 2,
        redisReadySince,
        requeue,
        ...(options.poisonAfterCrashes !== undefined && {
          poisonAfterCrashes: options.poisonAfterCrashes,
        }),
        ...(options.crashesClearedAfterMs !== undefined && {
          crashesClearedAfterMs: options.crashesClearedAfterMs,
        }),
        hooks,
        starts,
      },
      dumpKey,
      runId,
      signal,
    );
    runs.set(dumpKey, run);
    try {
      const result = await run.run();
      if (result.outcome === 'deferred') {
        // Redelivered while its owner looked alive: look again once that owner could have died.
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      }
      if (result.outcome === 'suspended') {
        // Hand-off: the record is Queued with its checkpoint; the job goes back to the queue.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return result;
    } finally {
      if (runs.get(dumpKey) === run) runs.delete(dumpKey);
    }
  };
  const worker = new Worker<DumpJobData, RunResult>(options.queueName, processor, {
    connection: bullConnection,
    prefix: options.redisPrefix,
    concurrency: options.concurrency,
    lockDuration: lockDurationMs,
    // A dump outlives any number of worker crashes: never fail its job for having stalled.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
    autorun: true,
  });
  const gate = new FetchGate(
    worker,
    options.concurrency,
    options.admit?.capacity() ?? options.concurrency,
  );
  options.onWorker?.(worker);
  worker.on('error', (error) => log.warn({ err: error.message }, 'worker error'));
  worker.on('failed', (job, error) =>
    log.error({ jobId: job?.id, err: error.message }, 'dump job failed'),
  );

  // One round trip a period for the worker and all its dumps, each dump's ownership still
  // checked on its own (DumpRegistry.heartbeats).
  const beat = (): Promise<void> =>
    registry
      .heartbeats(workerId, () => Promise.all([...runs.values()].map((run) => run.heartbeat())))
      .catch(() => {});
  let heartbeat: NodeJS.Timeout | undefined;
  const beatOnGrid = (): void => {
    heartbeat = setTimeout(() => {
      beatOnGrid();
      void beat();
    }, grid.delay(options.heartbeatMs));
    heartbeat.unref();
  };
  beatOnGrid();
  await Promise.all([waitForRedisReady(commands), worker.waitUntilReady()]);
  await registry.workerAlive(workerId);
  deliverer.start();

  const shutdown = new ShutdownManager({ timeoutMs: options.shutdownTimeoutMs, logger: log });
  shutdown.register('worker', async () => {
    closing = true;
    // Stop fetching first; close() resolves once every processor returned.
    const closed = worker.close();
    gate.release();
    for (const run of runs.values()) run.suspend();
    await closed;
  });
  shutdown.register('heartbeat', async () => {
    clearTimeout(heartbeat);
    heartbeat = undefined;
    await registry.workerGone(workerId).catch(() => {});
  });
  shutdown.register('events', () => deliverer.close());
  shutdown.register('subscriber', () => closeRedis(subscriber));
  shutdown.register('redis', async () => {
    await queue?.close();
    await closeRedis(bullConnection);
    await closeRedis(commands);
  });
  log.info({ queue: options.queueName, concurrency: options.concurrency }, 'worker ready');
  return { workerId, worker, registry, shutdown, runs };
}
