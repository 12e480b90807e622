import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DUMP_JOB_NAME,
  DumpRegistry,
  closeRedis,
  createRedisConnection,
  dumpEventSchema,
  dumpKeyOf,
  jobIdFor,
  newRunId,
  parseMessage,
  publishWorkerControl,
  type DumpEventMessage,
  type DumpJobData,
} from '@hlsdump/contracts';
import { startTestRedis, type TestRedis } from '../../../test/support/redis-server.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from './fake-dump.test-support.js';
import {
  startWorkerService,
  type WorkerService,
  type WorkerServiceOptions,
} from './worker-service.js';

let server: TestRedis;
let tmp: string;
let commands: Redis;
let subscriber: Redis;
let registry: DumpRegistry;
let queue: Queue<DumpJobData>;
let prefix: string;
let queueName: string;
const events: DumpEventMessage[] = [];
const eventWaiters: (() => void)[] = [];
const services: WorkerService[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  tmp = await mkdtemp(join(tmpdir(), 'hlsdump-worker-'));
  commands = createRedisConnection(server.url, { role: 'worker' });
  subscriber = createRedisConnection(server.url, { role: 'subscriber' });
  subscriber.on('pmessage', (_pattern: string, _channel: string, payload: string) => {
    const event = parseMessage(dumpEventSchema, payload);
    if (!event) return;
    events.push(event);
    for (const wake of eventWaiters.splice(0)) wake();
  });
});
afterAll(async () => {
  await closeRedis(subscriber);
  await closeRedis(commands);
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  prefix = uniqueName('hlsdump-wtest');
  queueName = uniqueName('dumps');
  registry = new DumpRegistry(commands, { prefix });
  queue = new Queue<DumpJobData>(queueName, { connection: commands, prefix });
  await subscriber.psubscribe(`${prefix}:events:*`);
});
afterEach(async () => {
  for (const service of services.splice(0)) await service.shutdown.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await subscriber.punsubscribe();
});

async function startWorker(
  engine: FakeEngine,
  workerId: string,
  heartbeatMs = 60_000,
  admit?: WorkerServiceOptions['admit'],
): Promise<WorkerService> {
  const service = await startWorkerService({
    ...(admit && { admit }),
    redisUrl: server.url,
    workerId,
    queueName,
    redisPrefix: prefix,
    concurrency: 5,
    heartbeatMs,
    shutdownTimeoutMs: 10_000,
    createDump: engine.create,
    logger: pino({ level: process.env.HLSDUMP_TEST_LOG ?? 'silent' }),
  });
  services.push(service);
  return service;
}

/** What the gateway does on a start: reserve, enqueue. */
async function enqueue(id: string, options: { infoFile?: string } = {}) {
  const identity = { vhost: 'default', app: 'app', outputStreamName: 'out', id };
  const dumpKey = dumpKeyOf(identity);
  const runId = newRunId();
  const jobId = jobIdFor(dumpKey, runId);
  await registry.reserve({
    ...identity,
    stream: 'in',
    outputPath: join(tmp, id),
    ...(options.infoFile && { infoFile: options.infoFile }),
    playlists: ['llhls.m3u8'],
    originBaseUrl: 'http://origin/app/out/',
    dumpKey,
    runId,
    jobId,
  });
  await queue.add(DUMP_JOB_NAME, { dumpKey, runId }, { jobId, attempts: 1 });
  return { dumpKey, runId, jobId, outputPath: join(tmp, id) };
}

async function nextEvent(
  predicate: (event: DumpEventMessage) => boolean,
): Promise<DumpEventMessage> {
  for (;;) {
    const found = events.find(predicate);
    if (found) return found;
    await new Promise<void>((resolve) => eventWaiters.push(resolve));
  }
}

describe('a dump job', () => {
  it('is claimed, started, acknowledged with `running`, and stopped by a stop message', async () => {
    const engine = new FakeEngine();
    const worker = await startWorker(engine, 'w-a');
    const { dumpKey, runId, outputPath } = await enqueue('one');
    expect(await nextEvent((e) => e.runId === runId)).toMatchObject({
      type: 'running',
      owner: 'w-a',
    });
    expect(existsSync(outputPath)).toBe(true);
    expect(await registry.get(dumpKey)).toMatchObject({ state: 'Running', owner: 'w-a' });
    expect(worker.runs.has(dumpKey)).toBe(true);

    expect(await registry.requestStop(dumpKey)).toMatchObject({
      outcome: 'REQUESTED',
      owner: 'w-a',
    });
    await publishWorkerControl(commands, registry.keys, 'w-a', { type: 'stop', dumpKey, runId });
    expect(await nextEvent((e) => e.runId === runId && e.type !== 'running')).toMatchObject({
      type: 'stopped',
      state: 'Completed',
    });
    const record = await registry.get(dumpKey);
    expect(record).toMatchObject({ state: 'Completed', progress: { filesWritten: 1 } });
    expect(await registry.isActive('default', 'app', 'out', 'one')).toBe(false);
  });

  it('is stopped by the durable flag alone when the stop message is lost', async () => {
    const engine = new FakeEngine();
    await startWorker(engine, 'w-b', 50);
    const { dumpKey, runId } = await enqueue('durable');
    await nextEvent((e) => e.runId === runId && e.type === 'running');
    // Recorded, never published: the next heartbeat sees it.
    await registry.requestStop(dumpKey);
    expect(await nextEvent((e) => e.runId === runId && e.type === 'stopped')).toMatchObject({
      state: 'Completed',
    });
    expect((await registry.get(dumpKey))?.state).toBe('Completed');
  });

  it('reports progress in heartbeats', async () => {
    const engine = new FakeEngine();
    await startWorker(engine, 'w-p', 50);
    const { dumpKey, runId } = await enqueue('progress');
    await nextEvent((e) => e.runId === runId && e.type === 'running');
    for (;;) {
      const record = await registry.get(dumpKey);
      if (record?.progress) {
        expect(record.progress.renditions[0]).toMatchObject({
          chunklist: 'chunklist_0.m3u8',
          lastMsn: 101,
          segments: 1,
        });
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it("reports a start failure with the engine's code and releases the dump", async () => {
    const engine = new FakeEngine();
    engine.behaviours.set('bad', {
      kind: 'fail',
      code: 'STREAM_NOT_FOUND',
      message: 'no such stream',
    });
    await startWorker(engine, 'w-c');
    const { dumpKey, runId } = await enqueue('bad');
    expect(await nextEvent((e) => e.runId === runId)).toMatchObject({
      type: 'error',
      error: { code: 'STREAM_NOT_FOUND', message: 'no such stream' },
    });
    expect(await registry.get(dumpKey)).toMatchObject({
      state: 'Error',
      error: { code: 'STREAM_NOT_FOUND' },
    });
    expect(await registry.isActive('default', 'app', 'out', 'bad')).toBe(false);
  });

  it('ends Completed when the stream ends by itself, and the job completes', async () => {
    const engine = new FakeEngine();
    const worker = await startWorker(engine, 'w-d');
    const created = engine.nextDump();
    const { dumpKey, runId, jobId } = await enqueue('ends');
    await nextEvent((e) => e.runId === runId && e.type === 'running');
    const completed = new Promise<unknown>((resolve) =>
      worker.worker.once('completed', (_job, result) => resolve(result)),
    );
    (await created).finishByItself();
    expect(await completed).toEqual({ outcome: 'ended', state: 'Completed', stopped: false });
    expect(await nextEvent((e) => e.runId === runId && e.type === 'stopped')).toMatchObject({
      state: 'Completed',
    });
    expect((await registry.get(dumpKey))?.state).toBe('Completed');
    expect(await (await queue.getJob(jobId))?.getState()).toBe('completed');
  });

  it('aborts a start the gateway withdrew, and never acknowledges it', async () => {
    const engine = new FakeEngine();
    engine.behaviours.set('slow', { kind: 'hang' });
    await startWorker(engine, 'w-e');
    const created = engine.nextDump();
    const { dumpKey, runId } = await enqueue('slow');
    await created;
    expect(await registry.withdraw(dumpKey, runId)).toEqual({
      outcome: 'CANCELLING',
      owner: 'w-e',
    });
    await publishWorkerControl(commands, registry.keys, 'w-e', { type: 'cancel', dumpKey, runId });
    expect(await nextEvent((e) => e.runId === runId)).toMatchObject({ type: 'withdrawn' });
    expect((await registry.get(dumpKey))?.state).toBe('Withdrawn');
    expect(events.some((e) => e.runId === runId && e.type === 'running')).toBe(false);
  });

  it('drops a job whose dump was withdrawn before any worker took it', async () => {
    const engine = new FakeEngine();
    const { dumpKey, runId, outputPath } = await enqueue('withdrawn');
    expect(await registry.withdraw(dumpKey, runId)).toEqual({ outcome: 'WITHDRAWN' });
    const worker = await startWorker(engine, 'w-f');
    const result = await new Promise<unknown>((resolve) =>
      worker.worker.once('completed', (_job, value) => resolve(value)),
    );
    expect(result).toEqual({ outcome: 'dropped', reason: 'Withdrawn' });
    expect(engine.dumps).toHaveLength(0);
    expect(existsSync(outputPath)).toBe(false);
  });
});

describe('shutdown', () => {
  it('hands a running dump to another worker, which resumes it from the checkpoint', async () => {
    const engineA = new FakeEngine();
    const fresh = engineA.nextDump();
    const a = await startWorker(engineA, 'w-old');
    const { dumpKey, runId } = await enqueue('handoff', { infoFile: join(tmp, 'handoff.xml') });
    await nextEvent((e) => e.runId === runId && e.type === 'running' && e.owner === 'w-old');
    // A new dump records once the worker's other starts are answered (starts-in-progress.ts).
    expect((await fresh).options.beforeRecording).toBeTypeOf('function');

    const report = await a.shutdown.close();
    expect(report).toEqual({
      completed: ['worker', 'heartbeat', 'events', 'subscriber', 'redis'],
      failed: [],
      timedOut: [],
    });
    expect(await a.shutdown.close()).toBe(report);
    const suspended = await registry.get(dumpKey);
    expect(suspended).toMatchObject({ state: 'Queued', stopRequested: false });
    expect(suspended?.owner).toBeUndefined();
    expect(JSON.parse(suspended?.checkpoint ?? '{}')).toMatchObject({
      version: 2,
      renditions: [{ entryCount: 1 }],
    });
    // Still active while it waits: its id and infoFile stay reserved.
    expect(await registry.isActive('default', 'app', 'out', 'handoff')).toBe(true);

    const engineB = new FakeEngine();
    const resumed = engineB.nextDump();
    await startWorker(engineB, 'w-new');
    await nextEvent((e) => e.runId === runId && e.type === 'running' && e.owner === 'w-new');
    expect((await resumed).options.resumeFrom).toMatchObject({
      version: 2,
      renditions: [{ entryCount: 1 }],
    });
    // A resumed one at once: its hand-off has already eaten into the origin's window.
    expect((await resumed).options.beforeRecording).toBeUndefined();
    expect(await registry.get(dumpKey)).toMatchObject({ state: 'Running', owner: 'w-new' });
  });

  it('goes to a worker with room when the worker that fetched it first refuses it', async () => {
    // w-full is at its share: it refuses every job, as the balancer would. It waits for jobs
    // first, so Redis hands it the first one.
    let refusals = 0;
    await startWorker(new FakeEngine(), 'w-full', 60_000, {
      accepts: async () => {
        refusals++;
        return false;
      },
      refusedDelayMs: () => 0,
      // Never room here: the hold lasts until the service closes.
      untilRoom: () => new Promise(() => {}),
      capacity: () => 0,
    });
    await startWorker(new FakeEngine(), 'w-room');
    const { runId } = await enqueue('refused');
    expect(await nextEvent((e) => e.runId === runId)).toMatchObject({
      type: 'running',
      owner: 'w-room',
    });
    // Holding off, the refusing worker did not take the job back from the queue to refuse it
    // again while the other one was about to take it.
    expect(refusals).toBe(1);
  });

  it('fetches one job beyond its share, and takes more at once when the share grows', async () => {
    let share = 1;
    let refusals = 0;
    await startWorker(new FakeEngine(), 'w-share', 60_000, {
      accepts: async (held) => {
        // The look a job at the share makes finds the share grown once the test says so.
        if (held >= share && grow) share = 3;
        if (held < share) return true;
        refusals++;
        return false;
      },
      refusedDelayMs: () => 0,
      untilRoom: async () => {
        while (!grow) await new Promise((resolve) => setTimeout(resolve, 20));
      },
      capacity: () => share,
    });
    let grow = false;
    const first = await enqueue('share-1');
    await nextEvent((e) => e.runId === first.runId && e.type === 'running');
    // At its share: of two jobs more it fetches one, refuses it, and leaves the other waiting.
    const second = await enqueue('share-2');
    const third = await enqueue('share-3');
    await expect.poll(() => refusals).toBe(1);
    expect(await queue.getJobCounts('active', 'waiting')).toEqual({ active: 1, waiting: 1 });
    // The share grows: both start here, the loop woken without waiting for a job to end.
    grow = true;
    for (const { runId } of [second, third])
      await nextEvent((e) => e.runId === runId && e.type === 'running');
    expect(refusals).toBe(1);
    // The share grows as a job at it is judged: the loop, then waiting on jobs that run for
    // hours, is woken, and fetches the next job as soon as it is added.
    share = 4;
    const fourth = await enqueue('share-4');
    await nextEvent((e) => e.runId === fourth.runId && e.type === 'running');
    share = 5;
    const fifth = await enqueue('share-5');
    await nextEvent((e) => e.runId === fifth.runId && e.type === 'running');
  });

  it('finalizes a dump stopped while it waited for a new owner', async () => {
    const a = await startWorker(new FakeEngine(), 'w-1');
    const { dumpKey, runId } = await enqueue('stop-while-queued');
    await nextEvent((e) => e.runId === runId && e.type === 'running');
    await a.shutdown.close();
    expect(await registry.requestStop(dumpKey)).toMatchObject({ outcome: 'PENDING' });

    const engineB = new FakeEngine();
    const resumed = engineB.nextDump();
    await startWorker(engineB, 'w-2');
    expect(await nextEvent((e) => e.runId === runId && e.type === 'stopped')).toMatchObject({
      owner: 'w-2',
      state: 'Completed',
    });
    expect((await resumed).options.resumeFrom).toBeDefined();
    expect((await registry.get(dumpKey))?.state).toBe('Completed');
  });

  it('ends in Error, never started, a dump whose checkpoint in Redis is not a checkpoint', async () => {
    const { dumpKey, runId, outputPath } = await enqueue('corrupt-checkpoint');
    const corrupt = JSON.stringify({ version: 2, request: { outputPath }, renditions: 'none' });
    await commands.hset(registry.keys.dump(dumpKey), 'checkpoint', corrupt);
    const engine = new FakeEngine();
    await startWorker(engine, 'w-c');
    const ended = await nextEvent((e) => e.runId === runId && e.type === 'error');
    expect(ended.error?.code).toBe('CHECKPOINT_INVALID');
    expect(ended.error?.message).toContain('renditions');
    expect(engine.dumps).toHaveLength(0);
    expect(await registry.get(dumpKey)).toMatchObject({
      state: 'Error',
      error: { code: 'CHECKPOINT_INVALID' },
    });
  });
});
