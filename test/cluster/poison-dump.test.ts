import { DumpRegistry, closeRedis, createRedisConnection, dumpKeyOf } from '@hlsdump/contracts';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  originsFor,
  startCluster,
  type Cluster,
  type ClusterWorker,
  type StartedDump,
} from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';
import { dumpStatus } from '../support/dump-progress.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A poison dump (its runs die together with the worker running them) ends in Error after
 * POISON_AFTER_CRASHES deaths in a row (the default, 3) instead of hopping from worker to worker.
 * Every worker here carries the test-only fault TEST_CRASH_ON_OUTPUT_STREAM=poison: a worker that
 * writes a segment of that stream SIGKILLs itself.
 */
const POISON_STREAM = 'poison';
const CLEAR_AFTER_MS = 15_000;

describe('poison dumps across worker processes', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let registry: DumpRegistry;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 2 });
    cluster = await startCluster({
      workers: 4,
      origins: originsFor(origin.url),
      // Long enough that no run between two kills of these tests clears the count by itself.
      workerEnv: {
        TEST_CRASH_ON_OUTPUT_STREAM: POISON_STREAM,
        POISON_CLEAR_AFTER_MS: String(CLEAR_AFTER_MS),
      },
    });
    registry = new DumpRegistry(createRedisConnection(cluster.redis.url, { role: 'worker' }), {
      prefix: cluster.redisPrefix,
    });
  });
  afterAll(async () => {
    if (registry) await closeRedis(registry.redis);
    await cluster?.close();
    await origin?.close();
  });

  const crashesOf = async (d: StartedDump): Promise<number> =>
    (await registry.get(dumpKeyOf(d)))?.crashes ?? 0;
  const exitedWorkers = (): ClusterWorker[] => cluster.workers.filter((w) => !w.running);
  const replaceExited = async (): Promise<void> => {
    for (const worker of exitedWorkers()) {
      await worker.restart();
      await cluster.workerReady(worker);
    }
  };

  /** Ends the dump's owner with a signal; resolves once another worker runs the dump. */
  const mover = (dump: StartedDump) => {
    let owner: string | undefined;
    return async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      owner ??= (await dumpStatus(cluster, dump))!.owner!;
      const worker = cluster.workers.find((w) => w.id === owner)!;
      await worker.kill(signal);
      owner = await waitFor(
        `the dump to run again after ${signal}`,
        async () => {
          const s = await dumpStatus(cluster, dump);
          return s?.status === 'Running' && s.owner !== worker.id ? s.owner : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, details: () => cluster.logs(6_000) },
      );
      await worker.restart();
      await cluster.workerReady(worker);
    };
  };

  it('ends in Error, with <Error> in its infoFile, after its runs killed 3 workers in a row', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    origin.addStream('app', POISON_STREAM, {});
    const dump = await cluster.startDump({ stream: POISON_STREAM, id: 'p' });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);

    const ended = await waitFor(
      'the poison dump to end in Error',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.status === 'Error' ? s : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, details: () => cluster.logs(6_000) },
    );
    expect(ended.error?.code).toBe('POISON_DUMP');
    expect(ended.error?.message).toMatch(/last 3 runs died together with the worker/);
    // Exactly three workers died of it; the fourth ended it without starting it again.
    const dead = exitedWorkers();
    expect(dead, cluster.logs(6_000)).toHaveLength(3);
    for (const worker of dead) {
      expect((await worker.exited).signal).toBe('SIGKILL');
      expect(worker.output()).toMatch(/test fault: killing worker/);
    }
    const last = cluster.workers.find((w) => w.running)!;
    expect(last.output()).toMatch(/poison dump: not started again/);
    expect(last.output()).not.toMatch(/test fault: killing worker/);

    const info = await readInfoFile(dump.infoFile!);
    expect(info.status).toBe('Error');
    expect(info.error).toBe(ended.error?.message);
    expect((await registry.get(dumpKeyOf(dump)))?.state).toBe('Error');
    await replaceExited();
  }, 120_000);

  it('a hand-off (SIGTERM) resets the count: two kills, a hand-off, two more kills, and the dump still runs', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    origin.addStream('app', 'steady', {});
    const dump = await cluster.startDump({ stream: 'steady', id: 's' });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    const moveOn = mover(dump);

    await moveOn('SIGKILL');
    await moveOn('SIGKILL');
    expect(await crashesOf(dump)).toBe(2);
    await moveOn('SIGTERM');
    expect(await crashesOf(dump)).toBe(0);
    await moveOn('SIGKILL');
    await moveOn('SIGKILL');
    expect(await crashesOf(dump)).toBe(2);
    expect((await dumpStatus(cluster, dump))?.status).toBe('Running');

    expect((await cluster.stopDump({ stream: 'steady', id: 's' })).status).toBe(200);
    const final = await dumpStatus(cluster, dump);
    expect(final?.status).toBe('Completed');
    expect(final?.gaps).toBe(0);
    expect((await readInfoFile(dump.infoFile!)).status).toBe('Completed');
  }, 180_000);

  it('a run that stays up for POISON_CLEAR_AFTER_MS clears the count: past crashes no longer add up', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    origin.addStream('app', 'mending', {});
    const dump = await cluster.startDump({ stream: 'mending', id: 'm' });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    const moveOn = mover(dump);

    await moveOn('SIGKILL');
    await moveOn('SIGKILL');
    expect(await crashesOf(dump)).toBe(2);
    await waitFor('the healthy run to clear the count', async () => (await crashesOf(dump)) === 0, {
      timeoutMs: CLEAR_AFTER_MS + 15_000,
      intervalMs: 250,
    });
    // Two more deaths: 2 in a row, not 4, so the dump still runs.
    await moveOn('SIGKILL');
    await moveOn('SIGKILL');
    expect(await crashesOf(dump)).toBe(2);
    expect((await dumpStatus(cluster, dump))?.status).toBe('Running');
    expect((await cluster.stopDump({ stream: 'mending', id: 'm' })).status).toBe(200);
    expect((await dumpStatus(cluster, dump))?.status).toBe('Completed');
  }, 180_000);
});
