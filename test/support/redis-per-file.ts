import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startTestRedis, type TestRedis } from './redis-server.ts';

export interface RedisPerFile {
  server: TestRedis;
  /** One connection to it, as a worker opens it (`maxRetriesPerRequest: null`). */
  redis: Redis;
}

/**
 * A Redis for the calling test file and one connection to it: started before its tests, closed
 * and stopped after them. Read the fields inside hooks and tests (they are set by `beforeAll`).
 * Tests isolate themselves inside it with `uniqueName()` key prefixes.
 */
export function useRedisPerFile(): RedisPerFile {
  const fixture = {} as RedisPerFile;
  beforeAll(async () => {
    fixture.server = await startTestRedis();
    fixture.redis = new Redis(fixture.server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await fixture.redis?.quit();
    await fixture.server?.stop();
  });
  return fixture;
}
