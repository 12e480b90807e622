import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { DumpRegistry } from './dump-registry.js';
import { dumpKeyOf, jobIdFor, newRunId } from './dump-identity.js';
import { DuplicateIdError, DuplicateInfoFileError } from './errors.js';
import { newRunIdentity } from './run-identity.js';
import { KEY_PART_LUA } from './keys.js';
import { dumpEventSchema, workerControlSchema } from './messages.js';
import type { DumpStartParams } from './dump-record.js';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';

let registry: DumpRegistry;

const db = useRedisPerFile();
beforeEach(() => {
  // A fresh key prefix per test: no test sees another's records.
  registry = new DumpRegistry(db.redis, { prefix: uniqueName('reg') });
});

function params(overrides: Partial<DumpStartParams> = {}): DumpStartParams {
  return {
    vhost: 'default',
    app: 'app',
    stream: 'stream',
    outputStreamName: 'stream_o',
    id: 'dump1',
    outputPath: '/data/out/dump1',
    infoFile: '/data/out/dump1.xml',
    userData: 'user',
    playlists: ['llhls.m3u8'],
    originBaseUrl: 'http://origin/app/stream_o/',
    ...overrides,
  };
}

async function reserve(overrides: Partial<DumpStartParams> = {}) {
  const p = params(overrides);
  const dumpKey = dumpKeyOf(p);
  const runId = newRunId();
  const jobId = jobIdFor(dumpKey, runId);
  await registry.reserve({ ...p, dumpKey, runId, jobId });
  return { ...p, dumpKey, runId, jobId };
}

describe('identity', () => {
  it('gives a 32-hex dump key and job ids without ":"', () => {
    const key = dumpKeyOf({ vhost: 'a:b', app: 'c', outputStreamName: 'd', id: 'e:f' });
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(jobIdFor(key, newRunId())).not.toContain(':');
    expect(dumpKeyOf({ vhost: 'a/b', app: 'c', outputStreamName: 'd', id: 'e' })).not.toBe(
      dumpKeyOf({ vhost: 'a', app: 'b/c', outputStreamName: 'd', id: 'e' }),
    );
  });
});

describe('reserve', () => {
  it('writes the record Queued with every start parameter', async () => {
    const r = await reserve();
    const record = await registry.get(r.dumpKey);
    expect(record).toMatchObject({
      state: 'Queued',
      vhost: 'default',
      app: 'app',
      stream: 'stream',
      outputStreamName: 'stream_o',
      id: 'dump1',
      outputPath: '/data/out/dump1',
      infoFile: '/data/out/dump1.xml',
      userData: 'user',
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://origin/app/stream_o/',
      runId: r.runId,
      jobId: r.jobId,
      stopRequested: false,
    });
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual(['dump1']);
  });

  it('refuses an active id on the same output stream, allows it on another', async () => {
    await reserve();
    await expect(reserve({ infoFile: '/other.xml' })).rejects.toBeInstanceOf(DuplicateIdError);
    await expect(
      reserve({ outputStreamName: 'other', infoFile: '/other.xml' }),
    ).resolves.toBeDefined();
  });

  it('refuses an infoFile an active dump holds', async () => {
    await reserve();
    await expect(reserve({ id: 'dump2' })).rejects.toBeInstanceOf(DuplicateInfoFileError);
    await expect(reserve({ id: 'dump3', infoFile: undefined })).resolves.toBeDefined();
  });

  it('lets exactly one of 20 concurrent reserves of one id win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => reserve({ infoFile: `/data/info-${i}.xml` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(19);
    for (const r of rejected)
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateIdError);
  });

  it('lets an id be reused once its dump ended, and a stale run cannot touch the new one', async () => {
    const first = await reserve();
    expect((await registry.claim(first.dumpKey, first.runId, 'w1')).ok).toBe(true);
    expect(await registry.finish(first.dumpKey, first.runId, 'w1', 'Completed')).toBe('OK');
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual([]);
    const second = await reserve();
    expect(second.dumpKey).toBe(first.dumpKey);
    expect(second.jobId).not.toBe(first.jobId);
    expect(await registry.finish(first.dumpKey, first.runId, 'w1', 'Error')).toBe('STALE');
    expect((await registry.claim(first.dumpKey, first.runId, 'w1')).ok).toBe(false);
    expect((await registry.get(second.dumpKey))?.state).toBe('Queued');
  });
});

describe('claim, markRunning, heartbeat, finish', () => {
  it('moves Queued → Starting → Running → Completed and releases the id and infoFile', async () => {
    const r = await reserve();
    const claim = await registry.claim(r.dumpKey, r.runId, 'w1');
    expect(claim).toMatchObject({ ok: true, record: { state: 'Starting', owner: 'w1' } });
    expect(await registry.claim(r.dumpKey, r.runId, 'w2')).toEqual({
      ok: false,
      reason: 'OWNED',
      state: 'Starting',
      owner: 'w1',
      staleInMs: expect.any(Number),
    });
    expect(await registry.markRunning(r.dumpKey, r.runId, 'w2')).toMatchObject({ outcome: 'LOST' });
    expect(await registry.markRunning(r.dumpKey, r.runId, 'w1')).toEqual({
      outcome: 'OK',
      stopRequested: false,
    });
    const progress = {
      renditions: [
        { chunklist: 'a.m3u8', lastMsn: 7, segments: 3, bytes: 300, gaps: 0, lagSeconds: 1.5 },
      ],
      filesWritten: 9,
      bytesWritten: 300,
      gaps: 0,
    };
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w1', progress)).toEqual({
      outcome: 'OK',
      stopRequested: false,
      cancel: false,
    });
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w2')).toEqual({
      outcome: 'LOST',
      gone: false,
    });
    expect((await registry.get(r.dumpKey))?.progress).toEqual(progress);
    expect(await registry.finish(r.dumpKey, r.runId, 'w1', 'Completed', { progress })).toBe('OK');
    expect(await registry.finish(r.dumpKey, r.runId, 'w1', 'Error')).toBe('ALREADY');
    expect((await registry.get(r.dumpKey))?.state).toBe('Completed');
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual([]);
    expect(await db.redis.hlen(registry.keys.infoFiles())).toBe(0);
    expect(await db.redis.ttl(registry.keys.dump(r.dumpKey))).toBeGreaterThan(0);
  });

  it('refuses a claim for another run or a missing record', async () => {
    const r = await reserve();
    expect(await registry.claim(r.dumpKey, newRunId(), 'w1')).toMatchObject({
      ok: false,
      reason: 'STALE',
    });
    expect(await registry.claim('0'.repeat(32), r.runId, 'w1')).toEqual({
      ok: false,
      reason: 'GONE',
    });
  });
});

describe('withdraw', () => {
  it('ends a Queued dump so no worker can claim it later', async () => {
    const r = await reserve();
    expect(await registry.withdraw(r.dumpKey, r.runId)).toEqual({ outcome: 'WITHDRAWN' });
    expect(await registry.claim(r.dumpKey, r.runId, 'w1')).toEqual({
      ok: false,
      reason: 'NOT_QUEUED',
      state: 'Withdrawn',
    });
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual([]);
    expect(await db.redis.hlen(registry.keys.infoFiles())).toBe(0);
  });

  it('cancels a Starting dump: the worker cannot acknowledge it', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    expect(await registry.withdraw(r.dumpKey, r.runId)).toEqual({
      outcome: 'CANCELLING',
      owner: 'w1',
    });
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w1')).toMatchObject({ cancel: true });
    expect(await registry.markRunning(r.dumpKey, r.runId, 'w1')).toEqual({ outcome: 'CANCELLED' });
    expect(await registry.finish(r.dumpKey, r.runId, 'w1', 'Withdrawn')).toBe('OK');
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual([]);
  });

  it('reports a dump that already runs instead of withdrawing it', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    expect(await registry.withdraw(r.dumpKey, r.runId)).toEqual({
      outcome: 'PROGRESSED',
      state: 'Running',
      owner: 'w1',
    });
    expect(await registry.withdraw(r.dumpKey, newRunId())).toEqual({ outcome: 'STALE' });
  });

  it('never lets both a claim and a withdraw win (30 races)', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await reserve({ id: `race-${i}`, infoFile: undefined });
      const [claim, withdraw] = await Promise.all([
        registry.claim(r.dumpKey, r.runId, 'w1'),
        registry.withdraw(r.dumpKey, r.runId),
      ]);
      if (claim.ok) {
        expect(withdraw).toEqual({ outcome: 'CANCELLING', owner: 'w1' });
        expect(await registry.markRunning(r.dumpKey, r.runId, 'w1')).toEqual({
          outcome: 'CANCELLED',
        });
      } else {
        expect(withdraw).toEqual({ outcome: 'WITHDRAWN' });
        expect((await registry.get(r.dumpKey))?.state).toBe('Withdrawn');
      }
    }
  });
});

describe('requestStop and suspend', () => {
  it('ends a Queued dump nobody took, at once', async () => {
    const r = await reserve();
    expect(await registry.requestStop(r.dumpKey)).toEqual({
      outcome: 'STOPPED_QUEUED',
      runId: r.runId,
      jobId: r.jobId,
    });
    expect(await registry.get(r.dumpKey)).toMatchObject({
      state: 'Withdrawn',
      stopRequested: true,
    });
    expect(await registry.claim(r.dumpKey, r.runId, 'w1')).toMatchObject({ ok: false });
    expect(await registry.requestStop(r.dumpKey)).toEqual({
      outcome: 'ENDED',
      runId: r.runId,
      state: 'Withdrawn',
    });
  });

  it('records the stop durably on a running dump and names its owner', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    expect(await registry.requestStop(r.dumpKey)).toEqual({
      outcome: 'REQUESTED',
      runId: r.runId,
      jobId: r.jobId,
      owner: 'w1',
    });
    // A lost pub/sub message does not matter: the next heartbeat sees the flag.
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w1')).toEqual({
      outcome: 'OK',
      stopRequested: true,
      cancel: false,
    });
    expect(await registry.markStopping(r.dumpKey, r.runId, 'w1')).toBe(true);
    expect((await registry.get(r.dumpKey))?.state).toBe('Stopping');
  });

  it('hands a suspended dump to the next worker with its checkpoint and any stop recorded meanwhile', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    const checkpoint = { version: 1, infoFileNextSeq: 12 };
    expect(await registry.suspend(r.dumpKey, r.runId, 'w2', checkpoint)).toBe(false);
    expect(await registry.suspend(r.dumpKey, r.runId, 'w1', checkpoint)).toBe(true);
    const queued = await registry.get(r.dumpKey);
    expect(queued).toMatchObject({ state: 'Queued' });
    expect(queued?.owner).toBeUndefined();
    // Still active: its id and infoFile stay reserved while it waits for a worker.
    expect(await registry.activeIds('default', 'app', 'stream_o')).toEqual(['dump1']);
    expect(await registry.requestStop(r.dumpKey)).toEqual({
      outcome: 'PENDING',
      runId: r.runId,
      jobId: r.jobId,
    });
    const claim = await registry.claim(r.dumpKey, r.runId, 'w2');
    expect(claim.ok).toBe(true);
    if (claim.ok) {
      expect(claim.record.stopRequested).toBe(true);
      expect(JSON.parse(claim.record.checkpoint ?? '')).toEqual(checkpoint);
    }
  });
});

describe('stopAndTell', () => {
  /** The messages published on `channel` while `act` runs, each with the record as it was then. */
  async function heard(channel: string, dumpKey: string, act: () => Promise<unknown>) {
    const subscriber = new Redis(db.server.url);
    const messages: { message: unknown; stopRequested: boolean | undefined }[] = [];
    const received: Promise<void>[] = [];
    subscriber.on('message', (_channel: string, payload: string) => {
      received.push(
        registry.get(dumpKey).then((record) => {
          messages.push({ message: JSON.parse(payload), stopRequested: record?.stopRequested });
        }),
      );
    });
    try {
      await subscriber.subscribe(channel);
      const result = await act();
      // A round trip on the subscriber's socket: whatever was published before it has arrived.
      await subscriber.ping();
      await Promise.all(received);
      return { result, messages };
    } finally {
      subscriber.disconnect();
    }
  }

  it('records the stop of a running dump and tells its owner, on the channel keys.ts names', async () => {
    // A worker id with what the channel name encodes: separators, quotes, %, non-ASCII.
    const owner = "gw/1:a b%c'(x)*!~-_.é😀";
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, newRunIdentity(owner));
    const { result, messages } = await heard(registry.keys.worker(owner), r.dumpKey, () =>
      registry.stopAndTell(r.dumpKey, r, { ifActive: true }),
    );
    expect(result).toEqual({ outcome: 'REQUESTED', runId: r.runId, jobId: r.jobId, owner });
    // Told once, after the durable flag was written.
    expect(messages).toEqual([
      { message: { type: 'stop', dumpKey: r.dumpKey, runId: r.runId }, stopRequested: true },
    ]);
    expect(workerControlSchema.parse(messages[0]?.message)).toBeDefined();
  });

  it('withdraws a Queued dump nobody took and tells its waiting start request', async () => {
    const r = await reserve();
    const { result, messages } = await heard(registry.keys.events(r.dumpKey), r.dumpKey, () =>
      registry.stopAndTell(r.dumpKey, r, { ifActive: true }),
    );
    expect(result).toEqual({ outcome: 'STOPPED_QUEUED', runId: r.runId, jobId: r.jobId });
    expect(messages).toEqual([
      { message: { type: 'withdrawn', dumpKey: r.dumpKey, runId: r.runId }, stopRequested: true },
    ]);
    expect(dumpEventSchema.parse(messages[0]?.message)).toBeDefined();
    expect(await registry.get(r.dumpKey)).toMatchObject({ state: 'Withdrawn' });
  });

  it('tells no one about a handed-off dump: whoever resumes it sees the flag', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    await registry.suspend(r.dumpKey, r.runId, 'w1', { version: 1 });
    const { result, messages } = await heard(registry.keys.worker('w1'), r.dumpKey, () =>
      registry.stopAndTell(r.dumpKey, r, { ifActive: true }),
    );
    expect(result).toEqual({ outcome: 'PENDING', runId: r.runId, jobId: r.jobId });
    expect(messages).toEqual([]);
    expect(await registry.get(r.dumpKey)).toMatchObject({ state: 'Queued', stopRequested: true });
  });

  it('with ifActive, answers INACTIVE for an id that is not active, and changes nothing', async () => {
    const unknown = params({ id: 'never' });
    const unknownKey = dumpKeyOf(unknown);
    expect(await registry.stopAndTell(unknownKey, unknown, { ifActive: true })).toEqual({
      outcome: 'INACTIVE',
    });
    expect(await registry.stopAndTell(unknownKey, unknown)).toEqual({ outcome: 'GONE' });

    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.finish(r.dumpKey, r.runId, 'w1', 'Completed');
    const before = await registry.get(r.dumpKey);
    expect(await registry.stopAndTell(r.dumpKey, r, { ifActive: true })).toEqual({
      outcome: 'INACTIVE',
    });
    expect(await registry.get(r.dumpKey)).toEqual(before);
    // Without it (ids just listed as active), as requestStop answers.
    expect(await registry.stopAndTell(r.dumpKey, r)).toEqual({
      outcome: 'ENDED',
      runId: r.runId,
      state: 'Completed',
    });
  });

  it('encodes a channel name in Lua exactly as keys.ts does', async () => {
    const names = [
      '',
      'plain-Id_1.2~3',
      "!'()*",
      'a/b:c d?e#f&g=h+i%j',
      'é😀中\t\n"',
      String.fromCharCode(...Array.from({ length: 127 }, (_, i) => i + 1)),
    ];
    for (const name of names) {
      const encoded = await db.redis.eval(`${KEY_PART_LUA}\nreturn keyPart(ARGV[1])`, 0, name);
      expect(`${registry.keys.worker('')}${String(encoded)}`).toBe(registry.keys.worker(name));
    }
  });
});

describe('list', () => {
  it('lists known dumps and forgets expired ones', async () => {
    const a = await reserve({ id: 'a', infoFile: undefined });
    await reserve({ id: 'b', infoFile: undefined });
    expect((await registry.list()).map((r) => r.id).sort()).toEqual(['a', 'b']);
    await db.redis.del(registry.keys.dump(a.dumpKey));
    expect((await registry.list()).map((r) => r.id)).toEqual(['b']);
    expect(await db.redis.scard(registry.keys.dumps())).toBe(1);
  });
});

describe('takeover and fencing', () => {
  /** A registry whose clock the test moves: heartbeats and staleness without waiting. */
  function clocked() {
    let now = 1_000_000;
    const clock = new DumpRegistry(db.redis, { prefix: registry.keys.prefix, now: () => now });
    return { clock, advance: (ms: number) => (now += ms) };
  }

  it('takes a running dump over only once its owner stopped heartbeating', async () => {
    const { clock, advance } = clocked();
    registry = clock;
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1', 30_000);
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    advance(10_000);
    await registry.heartbeat(r.dumpKey, r.runId, 'w1');
    advance(29_000);
    expect(await registry.claim(r.dumpKey, r.runId, 'w2', 30_000)).toMatchObject({
      ok: false,
      reason: 'OWNED',
      owner: 'w1',
    });
    advance(2_000);
    const taken = await registry.claim(r.dumpKey, r.runId, 'w2', 30_000);
    expect(taken).toMatchObject({
      ok: true,
      previousOwner: 'w1',
      record: { state: 'Starting', owner: 'w2' },
    });
    // The old owner is fenced off: no checkpoint, no heartbeat, no ownership.
    expect(await registry.owns(r.dumpKey, r.runId, 'w1')).toBe(false);
    expect(await registry.owns(r.dumpKey, r.runId, 'w2')).toBe(true);
    expect(await registry.saveCheckpoint(r.dumpKey, r.runId, 'w1', { version: 2 })).toBe(false);
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w1')).toEqual({
      outcome: 'LOST',
      gone: false,
    });
    expect(await registry.saveCheckpoint(r.dumpKey, r.runId, 'w2', { version: 2, n: 1 })).toBe(
      true,
    );
    expect((await registry.get(r.dumpKey))?.checkpoint).toBe(JSON.stringify({ version: 2, n: 1 }));
  });

  it('tells two runs of one dump on one worker apart by their claim token', async () => {
    const { clock, advance } = clocked();
    registry = clock;
    const r = await reserve();
    const first = newRunIdentity('w1');
    const second = newRunIdentity('w1');
    await registry.claim(r.dumpKey, r.runId, first, 30_000);
    await registry.markRunning(r.dumpKey, r.runId, first);
    // Fresh heartbeat: the same worker's second run may not take over either.
    expect(await registry.claim(r.dumpKey, r.runId, second, 30_000)).toMatchObject({
      ok: false,
      reason: 'OWNED',
      owner: 'w1',
    });
    advance(31_000);
    expect(await registry.claim(r.dumpKey, r.runId, second, 30_000)).toMatchObject({
      ok: true,
      previousOwner: 'w1',
      record: { state: 'Starting', owner: 'w1' },
    });
    expect(await registry.owns(r.dumpKey, r.runId, first)).toBe(false);
    expect(await registry.owns(r.dumpKey, r.runId, 'w1')).toBe(false);
    expect(await registry.owns(r.dumpKey, r.runId, second)).toBe(true);
    expect(await registry.heartbeat(r.dumpKey, r.runId, first)).toEqual({
      outcome: 'LOST',
      gone: false,
    });
    expect(await registry.saveCheckpoint(r.dumpKey, r.runId, first, { version: 2 })).toBe(false);
    expect(await registry.markStopping(r.dumpKey, r.runId, first)).toBe(false);
    expect(await registry.finish(r.dumpKey, r.runId, first, 'Completed')).toBe('LOST');
    expect(await registry.heartbeat(r.dumpKey, r.runId, second)).toMatchObject({ outcome: 'OK' });
    // The worker's liveness entry names the worker, not the run.
    expect(await db.redis.zscore(registry.keys.workers(), 'w1')).not.toBeNull();
    expect(await registry.finish(r.dumpKey, r.runId, second, 'Completed')).toBe('OK');
  });

  it('sends a worker’s heartbeats in one call, each dump’s holder checked on its own', async () => {
    const { clock, advance } = clocked();
    registry = clock;
    const held = await reserve({ id: 'held', infoFile: '/held.xml' });
    const takenOver = await reserve({ id: 'taken', infoFile: '/taken.xml' });
    const gone = await reserve({ id: 'gone', infoFile: '/gone.xml' });
    const stopped = await reserve({ id: 'stopped', infoFile: '/stopped.xml' });
    const runOf = new Map<string, string>();
    for (const r of [held, takenOver, gone, stopped]) {
      const run = newRunIdentity('w1');
      runOf.set(r.dumpKey, run);
      await registry.claim(r.dumpKey, r.runId, run, 30_000);
      await registry.markRunning(r.dumpKey, r.runId, run);
    }
    // Another run (of the same worker) takes one over; one record is lost; one is asked to stop.
    advance(31_000);
    await registry.heartbeat(held.dumpKey, held.runId, runOf.get(held.dumpKey)!);
    await registry.heartbeat(stopped.dumpKey, stopped.runId, runOf.get(stopped.dumpKey)!);
    await registry.heartbeat(gone.dumpKey, gone.runId, runOf.get(gone.dumpKey)!);
    expect(
      await registry.claim(takenOver.dumpKey, takenOver.runId, newRunIdentity('w1'), 30_000),
    ).toMatchObject({ ok: true });
    await db.redis.del(registry.keys.dump(gone.dumpKey));
    expect(await registry.requestStop(stopped.dumpKey)).toMatchObject({ outcome: 'REQUESTED' });

    // Scripts run (EVALSHA, or EVAL the first time: ioredis loads a script on NOSCRIPT).
    const scriptCalls = async () => {
      const stats = await db.redis.info('commandstats');
      return [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce(
        (sum, [, calls]) => sum + Number(calls),
        0,
      );
    };
    const before = await scriptCalls();
    advance(1_000);
    const results = new Map<string, unknown>();
    await registry.heartbeats('w1', () =>
      Promise.all(
        [held, takenOver, gone, stopped].map(async (r) =>
          results.set(
            r.id,
            await registry.heartbeat(r.dumpKey, r.runId, runOf.get(r.dumpKey)!, {
              renditions: [],
              bytesWritten: 7,
              filesWritten: 1,
              gaps: 0,
            }),
          ),
        ),
      ),
    );
    expect(await scriptCalls()).toBe(before + 1);
    expect(Object.fromEntries(results)).toEqual({
      held: { outcome: 'OK', stopRequested: false, cancel: false },
      taken: { outcome: 'LOST', gone: false },
      gone: { outcome: 'LOST', gone: true },
      stopped: { outcome: 'OK', stopRequested: true, cancel: false },
    });
    const now = 1_000_000 + 32_000;
    expect(await registry.get(held.dumpKey)).toMatchObject({
      heartbeatAt: now,
      progress: { bytesWritten: 7 },
    });
    // The one taken over is left as its new holder wrote it; the worker's entry is renewed.
    expect((await registry.get(takenOver.dumpKey))?.progress).toBeUndefined();
    expect(Number(await db.redis.zscore(registry.keys.workers(), 'w1'))).toBe(now);
  });

  it('never lets two workers win a takeover race', async () => {
    const { clock, advance } = clocked();
    registry = clock;
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w0', 1_000);
    advance(5_000);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => registry.claim(r.dumpKey, r.runId, `w${i + 1}`, 1_000)),
    );
    expect(claims.filter((c) => c.ok)).toHaveLength(1);
  });

  it('writes a lost record back only when Redis has none', async () => {
    const r = await reserve();
    await registry.claim(r.dumpKey, r.runId, 'w1');
    await registry.markRunning(r.dumpKey, r.runId, 'w1');
    const record = (await registry.get(r.dumpKey))!;
    expect(await registry.restore(record, 'w1', { version: 2 })).toBe(false);

    await db.redis.del(
      registry.keys.dump(r.dumpKey),
      registry.keys.infoFiles(),
      registry.keys.active(r.vhost, r.app, r.outputStreamName),
    );
    expect(await registry.heartbeat(r.dumpKey, r.runId, 'w1')).toEqual({
      outcome: 'LOST',
      gone: true,
    });
    expect(await registry.restore(record, 'w1', { version: 2 })).toBe(true);
    expect(await registry.get(r.dumpKey)).toMatchObject({
      state: 'Running',
      owner: 'w1',
      id: r.id,
      infoFile: r.infoFile,
    });
    expect(await registry.isActive(r.vhost, r.app, r.outputStreamName, r.id)).toBe(true);
    expect(await registry.infoFileHolder(r.infoFile!)).toBe(r.dumpKey);
    expect((await registry.heartbeat(r.dumpKey, r.runId, 'w1')).outcome).toBe('OK');
  });
});
