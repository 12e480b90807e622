import { dumpKeyOf, DumpRegistry, jobIdFor, newRunId, type DumpJobData } from '@hlsdump/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { DumpEventHub } from './dump-events.js';
import { DumpService } from './dump-service.js';
import { NoActiveDumpError } from './errors.js';

const db = useRedisPerFile();
let registry: DumpRegistry;
let queue: Queue<DumpJobData>;
let subscriber: Redis;

beforeAll(() => {
  const prefix = uniqueName('svc');
  registry = new DumpRegistry(db.redis, { prefix });
  queue = new Queue<DumpJobData>(uniqueName('q'), { connection: db.redis, prefix });
  // Never connected: the events subscriber is away.
  subscriber = new Redis(db.server.url, { lazyConnect: true });
});
afterAll(async () => {
  await queue?.close();
  subscriber?.disconnect();
});

function service(): DumpService {
  return new DumpService({
    registry,
    queue,
    events: new DumpEventHub(subscriber, registry.keys),
    startTimeoutMs: 1_000,
    stopTimeoutMs: 1_000,
    logger: pino({ level: 'silent' }),
  });
}

describe('stop by id with the events subscriber away', () => {
  it('404s an id that is not active; fails, recording nothing, for one that is', async () => {
    const stream = { vhost: 'default', app: 'app', outputStreamName: 'out' };
    await expect(service().stop({ ...stream, id: 'none' })).rejects.toBeInstanceOf(
      NoActiveDumpError,
    );

    const identity = { ...stream, id: 'running' };
    const dumpKey = dumpKeyOf(identity);
    const runId = newRunId();
    await registry.reserve({
      ...identity,
      stream: 'stream',
      outputPath: '/data/out/running',
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://origin/app/stream/',
      dumpKey,
      runId,
      jobId: jobIdFor(dumpKey, runId),
    });
    await registry.claim(dumpKey, runId, 'w1');
    await registry.markRunning(dumpKey, runId, 'w1');
    await expect(service().stop(identity)).rejects.toThrow(
      'the events subscriber is not connected',
    );
    // Not recorded: the owner would have been told while no acknowledgement could be heard.
    expect(await registry.get(dumpKey)).toMatchObject({ state: 'Running', stopRequested: false });
  });
});
