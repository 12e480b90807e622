import { once } from 'node:events';
import { join } from 'node:path';
import {
  DumpRegistry,
  closeRedis,
  createRedisConnection,
  dumpKeyOf,
  jobIdFor,
  newRunId,
} from '@hlsdump/contracts';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DumpRun, type RunContext, type RunResult } from '../../services/worker/src/dump-run.js';
import { engineDumpFactory, type CreateDump } from '../../services/worker/src/engine.js';
import { trackReadySince } from '../../services/worker/src/redis-ready-since.js';
import { tempDir } from '../support/dump-kit.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { uniqueName } from '../support/unique-name.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A Redis failover can lose the writes its master acknowledged last (replication is
 * asynchronous): an owner's newest heartbeats vanish, its dump looks abandoned, and BullMQ hands
 * the job out again, possibly to the very worker still running it. Here those lost writes are
 * made on purpose, in a real Redis, behind a running dump's back (its heartbeatAt set back past
 * the stale bound), and the dump's job is run a second time on the same worker id. Only one run
 * may write at a time: the old run stops before the new one writes its first byte, and the dump
 * ends byte-exact with a valid infoFile.
 */
const LEASE_MS = 2_500;
const STALE_AFTER_MS = 5_000;
const HEARTBEAT_MS = 500;

describe('ownership writes lost behind a running dump', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let readySince: () => number;
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = createRedisConnection(redisServer.url, { role: 'worker' });
    readySince = trackReadySince(redis);
    origin = await createTestOrigin({ speed: 4 });
    dir = await tempDir('lost-writes');
  });
  afterAll(async () => {
    if (redis) await closeRedis(redis);
    await redisServer?.stop();
    await origin?.close();
    await dir?.remove();
  });

  /** Every write a run began (its fence passed) and completed, by the clock of this process. */
  interface WriteLog {
    began: number[];
    ended: number[];
    segments: number;
  }

  async function scenario(name: string, oldRunHeartbeatsAgain: boolean) {
    const stream = origin.addStream('app', name, { windowSegments: 30 });
    const registry = new DumpRegistry(redis, { prefix: uniqueName('lost-writes') });
    const identity = { vhost: 'default', app: 'app', outputStreamName: name, id: 'd' };
    const dumpKey = dumpKeyOf(identity);
    const runId = newRunId();
    const outputPath = join(dir.path, name);
    const infoFile = join(dir.path, `${name}.xml`);
    await registry.reserve({
      ...identity,
      stream: name,
      outputPath,
      infoFile,
      playlists: ['llhls.m3u8'],
      originBaseUrl: new URL('.', stream.masterUrl).href,
      dumpKey,
      runId,
      jobId: jobIdFor(dumpKey, runId),
    });

    const logs = new Map<string, WriteLog>();
    const engine = engineDumpFactory();
    const contextFor = (label: string): RunContext => {
      const log: WriteLog = { began: [], ended: [], segments: 0 };
      logs.set(label, log);
      const createDump: CreateDump = (request, options) => {
        const dump = engine(request, {
          ...options,
          beforeWrite: async () => {
            await options.beforeWrite();
            log.began.push(performance.now());
          },
        });
        dump.on((event) => {
          if (event.type !== 'file') return;
          log.ended.push(performance.now());
          if (event.kind === 'segment') log.segments++;
        });
        return dump;
      };
      return {
        registry,
        // One worker: the job comes back to the process that still runs it.
        workerId: 'worker-a',
        createDump,
        logger: pino({ level: process.env.HLSDUMP_TEST_LOG ?? 'silent' }),
        staleAfterMs: STALE_AFTER_MS,
        leaseMs: LEASE_MS,
        redisReadySince: () => readySince(),
      };
    };
    const heartbeating = (run: DumpRun) => {
      const timer = setInterval(() => void run.heartbeat(), HEARTBEAT_MS);
      return () => clearInterval(timer);
    };

    const oldRun = new DumpRun(contextFor('old'), dumpKey, runId);
    const oldResult: Promise<RunResult> = oldRun.run();
    let stopOldHeartbeats = heartbeating(oldRun);
    const oldLog = logs.get('old')!;
    const renditions = stream.renditions.length;
    await waitFor('the first run to write segments', () => oldLog.segments >= 2 * renditions, {
      timeoutMs: 30_000,
    });

    // The failover: the newest heartbeats are lost with the master, the worker is cut off a while.
    stopOldHeartbeats();
    await oldRun.heartbeat(); // its lease is fresh: it may write unasked for LEASE_MS from here
    await redis.hset(
      registry.keys.dump(dumpKey),
      'heartbeatAt',
      String(Date.now() - STALE_AFTER_MS - 1_000),
    );
    // ...and the worker's connection reconnects, as every connection does in a failover.
    redis.disconnect(true);
    await once(redis, 'ready');
    // BullMQ found the job's lock gone (lost too) and hands the job to the same worker again.
    const newRun = new DumpRun(contextFor('new'), dumpKey, runId);
    const newResult = newRun.run();
    const stopNewHeartbeats = heartbeating(newRun);
    if (oldRunHeartbeatsAgain) stopOldHeartbeats = heartbeating(oldRun);

    const newLog = logs.get('new')!;
    await waitFor('the new run to write segments', () => newLog.segments >= 3 * renditions, {
      timeoutMs: 30_000,
    });
    // No write of the old run was under way, or came later, once the new run began writing.
    const firstNewWrite = Math.min(...newLog.began);
    expect(oldLog.began.filter((t) => t >= firstNewWrite)).toEqual([]);
    expect(oldLog.ended.filter((t) => t >= firstNewWrite)).toEqual([]);
    let oldOutcome: RunResult | undefined;
    void oldResult.then((result) => (oldOutcome = result));
    await waitFor('the older run to have stopped', () => oldOutcome !== undefined, {
      timeoutMs: 5_000,
    });
    expect(oldOutcome).toEqual({ outcome: 'lost' });
    stopOldHeartbeats();

    newRun.requestStop();
    await expect(newResult).resolves.toMatchObject({ outcome: 'ended', state: 'Completed' });
    stopNewHeartbeats();
    const verified = await verifyDump(
      stream,
      { outputPath, infoFile, streamName: `/default/app/${name}` },
      { minSegments: 4 },
    );
    expect(verified.info.status).toBe('Completed');
    expect((await registry.get(dumpKey))?.state).toBe('Completed');
    expect(await redis.hget(registry.keys.dump(dumpKey), 'takeovers')).toBe('1');
    return verified;
  }

  it('the same worker gets the job again and heartbeats on: the older run stops, one writer at a time', async () => {
    await scenario('again', true);
  }, 90_000);

  it('the older run sends no heartbeat again: its fence stops it at the end of its lease, before the new run writes', async () => {
    await scenario('silent', false);
  }, 90_000);
});
