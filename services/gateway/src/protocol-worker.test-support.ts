import { mkdir } from 'node:fs/promises';
import {
  DumpRegistry,
  closeRedis,
  createRedisConnection,
  parseDumpJobData,
  parseMessage,
  publishDumpEvent,
  workerControlSchema,
  type DumpJobData,
  type WorkerControlMessage,
} from '@hlsdump/contracts';
import { Worker } from 'bullmq';

/**
 * The worker's side of the protocol and nothing else (no dump engine): claim, create outputPath,
 * mark running, publish `running`, finish on `stop`. Lets the gateway's tests run against a real
 * BullMQ worker and real Redis without the worker service.
 */
export type Behaviour = 'run' | 'hang' | { fail: { code: string; message: string } };

export class ProtocolWorker {
  private constructor(
    readonly processed: string[],
    readonly workerId: string,
    private readonly worker: Worker<DumpJobData>,
    private readonly connections: ReturnType<typeof createRedisConnection>[],
    /**
     * Resolves once the worker first looked at the queue and found nothing to take. Listened to
     * from its construction: BullMQ emits 'drained' once, possibly before start() returns.
     */
    readonly drained: Promise<void>,
  ) {}

  static async start(options: {
    redisUrl: string;
    queueName: string;
    prefix: string;
    workerId: string;
    behaviour?: Behaviour;
  }): Promise<ProtocolWorker> {
    const commands = createRedisConnection(options.redisUrl, { role: 'worker' });
    const subscriber = createRedisConnection(options.redisUrl, { role: 'subscriber' });
    const bullConnection = createRedisConnection(options.redisUrl, { role: 'worker' });
    const registry = new DumpRegistry(commands, { prefix: options.prefix });
    const behaviour = options.behaviour ?? 'run';
    const processed: string[] = [];
    const waiters = new Map<string, (message: WorkerControlMessage) => void>();
    subscriber.on('message', (_channel: string, payload: string) => {
      const message = parseMessage(workerControlSchema, payload);
      if (message) waiters.get(message.dumpKey)?.(message);
    });
    await subscriber.subscribe(registry.keys.worker(options.workerId));
    const worker = new Worker<DumpJobData>(
      options.queueName,
      async (job, _token, _signal) => {
        processed.push(job.id ?? '');
        const { dumpKey, runId } = parseDumpJobData(job.data);
        const control = new Promise<WorkerControlMessage>((resolve) =>
          waiters.set(dumpKey, resolve),
        );
        const claim = await registry.claim(dumpKey, runId, options.workerId);
        if (!claim.ok) return 'dropped';
        const publish = (type: 'running' | 'stopped' | 'error' | 'withdrawn', extra = {}) =>
          publishDumpEvent(commands, registry.keys, {
            type,
            dumpKey,
            runId,
            owner: options.workerId,
            ...extra,
          });
        if (typeof behaviour === 'object') {
          await registry.finish(dumpKey, runId, options.workerId, 'Error', {
            error: behaviour.fail,
          });
          await publish('error', { error: behaviour.fail });
          return 'failed';
        }
        if (behaviour === 'hang') {
          await control; // a `cancel`
          await registry.finish(dumpKey, runId, options.workerId, 'Withdrawn');
          await publish('withdrawn');
          return 'cancelled';
        }
        await mkdir(claim.record.outputPath, { recursive: true });
        const running = await registry.markRunning(dumpKey, runId, options.workerId);
        if (running.outcome !== 'OK') return 'lost';
        await publish('running');
        if (!running.stopRequested) await control;
        await registry.finish(dumpKey, runId, options.workerId, 'Completed');
        await publish('stopped', { state: 'Completed' });
        return 'stopped';
      },
      { connection: bullConnection, prefix: options.prefix, concurrency: 10 },
    );
    const drained = new Promise<void>((resolve) => worker.once('drained', () => resolve()));
    await worker.waitUntilReady();
    return new ProtocolWorker(
      processed,
      options.workerId,
      worker,
      [commands, subscriber, bullConnection],
      drained,
    );
  }

  get bullWorker(): Worker<DumpJobData> {
    return this.worker;
  }

  async close(): Promise<void> {
    await this.worker.close(true);
    for (const connection of this.connections) await closeRedis(connection);
  }
}
