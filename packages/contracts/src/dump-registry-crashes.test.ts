import { describe, expect, it } from 'vitest';
import { DumpRegistry } from './dump-registry.js';
import { dumpKeyOf, jobIdFor, newRunId } from './dump-identity.js';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';

/**
 * The registry counts the runs in a row that died with their worker (each takeover of a dump whose
 * owner stopped heartbeating); the worker ends a poison dump on that count. A hand-off resets it.
 */

const db = useRedisPerFile();

const STALE_AFTER_MS = 5_000;

async function runningDump() {
  let now = 1_000_000;
  const registry = new DumpRegistry(db.redis, { prefix: uniqueName('crashes'), now: () => now });
  const params = {
    vhost: 'default',
    app: 'app',
    stream: 'stream',
    outputStreamName: 'stream_o',
    id: 'dump1',
    outputPath: '/data/out/dump1',
    playlists: ['llhls.m3u8'],
    originBaseUrl: 'http://origin/app/stream_o/',
  };
  const dumpKey = dumpKeyOf(params);
  const runId = newRunId();
  await registry.reserve({ ...params, dumpKey, runId, jobId: jobIdFor(dumpKey, runId) });
  expect(await registry.claim(dumpKey, runId, 'w0', STALE_AFTER_MS)).toMatchObject({ ok: true });
  await registry.markRunning(dumpKey, runId, 'w0');
  /** `owner`'s worker dies; `next` takes the dump over once the heartbeat is stale. */
  const dieAndTakeOver = async (next: string) => {
    now += STALE_AFTER_MS + 1;
    const claim = await registry.claim(dumpKey, runId, next, STALE_AFTER_MS);
    expect(claim).toMatchObject({ ok: true });
    await registry.markRunning(dumpKey, runId, next);
    return claim.ok ? claim.record.crashes : undefined;
  };
  return { registry, dumpKey, runId, dieAndTakeOver };
}

describe('runs that died with their worker', () => {
  it('counts each takeover in a row', async () => {
    const { registry, dumpKey, dieAndTakeOver } = await runningDump();
    expect((await registry.get(dumpKey))?.crashes).toBeUndefined();
    expect(await dieAndTakeOver('w1')).toBe(1);
    expect(await dieAndTakeOver('w2')).toBe(2);
    // A worker restarted under the same id after its crash takes over its own dead run: counted.
    expect(await dieAndTakeOver('w2')).toBe(3);
  });

  it('starts again from zero after a hand-off (SIGTERM)', async () => {
    const { registry, dumpKey, runId, dieAndTakeOver } = await runningDump();
    await dieAndTakeOver('w1');
    await dieAndTakeOver('w2');
    expect(await registry.suspend(dumpKey, runId, 'w2', { version: 2 })).toBe(true);
    expect((await registry.get(dumpKey))?.crashes).toBeUndefined();
    const resumed = await registry.claim(dumpKey, runId, 'w3', STALE_AFTER_MS);
    expect(resumed.ok && resumed.record.crashes).toBeUndefined();
    await registry.markRunning(dumpKey, runId, 'w3');
    expect(await dieAndTakeOver('w4')).toBe(1);
  });

  it('does not count a redelivery that found the owner alive', async () => {
    const { registry, dumpKey, runId, dieAndTakeOver } = await runningDump();
    expect(await registry.claim(dumpKey, runId, 'w1', STALE_AFTER_MS)).toMatchObject({
      ok: false,
      reason: 'OWNED',
    });
    expect((await registry.get(dumpKey))?.crashes).toBeUndefined();
    expect(await dieAndTakeOver('w1')).toBe(1);
  });

  it('clears the count for the owner of a run that proved healthy, and for nobody else', async () => {
    const { registry, dumpKey, runId, dieAndTakeOver } = await runningDump();
    await dieAndTakeOver('w1');
    await dieAndTakeOver('w2');
    expect(await registry.clearCrashes(dumpKey, runId, 'w1')).toBe(false);
    expect(await registry.clearCrashes(dumpKey, 'another-run', 'w2')).toBe(false);
    expect((await registry.get(dumpKey))?.crashes).toBe(2);
    expect(await registry.clearCrashes(dumpKey, runId, 'w2')).toBe(true);
    expect((await registry.get(dumpKey))?.crashes).toBeUndefined();
    expect(await dieAndTakeOver('w3')).toBe(1);
  });
});
