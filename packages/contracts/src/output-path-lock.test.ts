import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { registryKeys, type RegistryKeys } from './keys.js';
import { OutputPathLocks } from './output-path-lock.js';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';

let keys: RegistryKeys;
let clock = 1_000_000;
let locks: OutputPathLocks;

const db = useRedisPerFile();
beforeEach(() => {
  keys = registryKeys(uniqueName('paths'));
  locks = new OutputPathLocks(db.redis, keys, 10_000, () => clock);
});

const holder = (id: string, runId: string) => ({
  dumpKey: `key-${id}`,
  runId,
  id,
  streamPath: 'default/app/s',
});
const record = (id: string, runId: string, state: string) =>
  db.redis.hset(keys.dump(`key-${id}`), 'runId', runId, 'state', state);

describe('one active dump per outputPath', () => {
  it('a start still being reserved holds the path for the grace time', async () => {
    expect(await locks.acquire('/out/a', holder('x', 'r1'))).toEqual({ ok: true });
    expect(await locks.acquire('/out/a', holder('y', 'r2'))).toMatchObject({
      ok: false,
      holder: { id: 'x', runId: 'r1' },
    });
    clock += 10_001;
    // Its gateway died before the record existed: the path frees itself.
    expect(await locks.acquire('/out/a', holder('y', 'r2'))).toEqual({ ok: true });
  });

  it('held while the holder’s run is active, free once it ended, whatever the time', async () => {
    await locks.acquire('/out/b', holder('x', 'r1'));
    await record('x', 'r1', 'Running');
    clock += 1_000_000;
    expect((await locks.holder('/out/b'))?.id).toBe('x');
    expect((await locks.acquire('/out/b', holder('y', 'r2'))).ok).toBe(false);
    await record('x', 'r1', 'Completed');
    expect(await locks.holder('/out/b')).toBeUndefined();
    expect((await locks.acquire('/out/b', holder('y', 'r2'))).ok).toBe(true);
  });

  it('release frees only the run that holds it', async () => {
    await locks.acquire('/out/c', holder('x', 'r1'));
    expect(await locks.release('/out/c', 'other')).toBe(false);
    expect(await locks.release('/out/c', 'r1')).toBe(true);
    expect((await locks.acquire('/out/c', holder('y', 'r2'))).ok).toBe(true);
  });

  it('of many starts racing from separate connections, exactly one takes the path', async () => {
    const connections = Array.from({ length: 8 }, () => new Redis(db.server.url));
    try {
      const racers = connections.map((c) => new OutputPathLocks(c, keys, 10_000, () => clock));
      const results = await Promise.all(
        racers.map((racer, i) => racer.acquire('/out/raced', holder(`r${i}`, `run${i}`))),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [`r${i}`] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) if (!result.ok) expect(result.holder.id).toBe(winners[0]);
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });
});
