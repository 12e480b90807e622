import { join } from 'node:path';
import { startTestRedis, type TestRedis } from '../../../test/support/redis-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, startPath, stopPath, type Harness } from './gateway-harness.test-support.js';

// Kills this file's own Redis; an external REDIS_URL cannot be killed, so the test needs its own.
const external = Boolean(process.env.REDIS_URL);
let redis: TestRedis;
let h: Harness;

beforeAll(async () => {
  if (external) return;
  redis = await startTestRedis();
  h = await startHarness({}, redis);
});
afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

describe.skipIf(external)('Redis down', () => {
  it('answers 503 JSON at once, readyz says so, and everything recovers by itself', async () => {
    const body = { outputStreamName: 'stream_o', id: 'x', outputPath: join(h.root, 'x') };
    await redis.outage?.kill();
    // ioredis notices the closed socket at once; wait for it rather than for a time.
    while (h.gateway.registry.redis.status === 'ready')
      await new Promise((resolve) => setImmediate(resolve));

    for (const path of [startPath(), stopPath()]) {
      const began = Date.now();
      const res = await h.post(path, body);
      expect(Date.now() - began).toBeLessThan(500);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ statusCode: 503, message: '[HTTP] Redis is unavailable (503)' });
    }
    const ready = await h.get('/readyz', { auth: null });
    expect(ready.status).toBe(503);
    expect((await h.get('/healthz', { auth: null })).status).toBe(200);
    // Auth still comes first.
    expect((await h.post(startPath(), body, { auth: null })).status).toBe(401);

    await redis.outage?.restart();
    await h.gateway.ready(15_000);
    expect((await h.get('/readyz', { auth: null })).status).toBe(200);
    const after = await h.post(startPath(), body);
    // Back to the ordinary checks: the test origin has no such stream.
    expect(after.body).toEqual({
      statusCode: 404,
      message: '[HTTP] Could not find output stream: [default/app/stream_o] (404)',
    });
  });
});
