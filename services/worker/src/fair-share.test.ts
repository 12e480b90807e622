import { EventEmitter } from 'node:events';
import { createRedisConnection, closeRedis, type DumpJobData } from '@hlsdump/contracts';
import { startTestRedis, type TestRedis } from '../../../test/support/redis-server.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairShareBalancer, type Sheddable } from './fair-share.js';

/** A dump run as the balancer sees it: something it can hand back. */
class Run implements Sheddable {
  handedBack = false;
  suspend(): void {
    this.handedBack = true;
  }
}

/**
 * The fair share against a real Redis and a real BullMQ queue: the share follows the queue's dumps
 * and the workers taking jobs; dumps beyond it are handed back, the oldest first; a closing worker
 * leaves at once; a silent one drops out.
 */
describe('FairShareBalancer', () => {
  let server: TestRedis;
  let redis: Redis;
  let queue: Queue<DumpJobData>;
  const prefix = uniqueName('fair');
  const queueName = uniqueName('dumps');

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedisConnection(server.url, { role: 'worker' });
    queue = new Queue<DumpJobData>(queueName, { connection: redis, prefix });
    // Six dumps in the queue (no worker takes them: the figure is all that matters here).
    for (let i = 0; i < 6; i++) await queue.add('dump', { dumpKey: `k${i}`, runId: `r${i}` });
  });
  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
    if (redis) await closeRedis(redis);
    await server?.stop();
  });

  const balancer = (workerId: string, maxConcurrency = 50) => {
    const worker = new EventEmitter();
    const b = new FairShareBalancer({
      redisPrefix: prefix,
      queueName,
      workerId,
      maxConcurrency,
      intervalMs: 60_000, // ticks by hand
      logger: pino({ level: 'silent' }),
    });
    b.attach(worker as unknown as Parameters<FairShareBalancer['attach']>[0]);
    return { b, worker };
  };

  it('shares the queued dumps among the workers taking jobs, and hands back what is beyond', async () => {
    const runsA = new Map(Array.from({ length: 6 }, (_, i) => [`k${i}`, new Run()]));
    const a = balancer('a');
    a.b.start(runsA, redis);
    await a.b.tick();
    expect(a.b.capacity).toBe(6);
    expect([...runsA.values()].some((r) => r.handedBack)).toBe(false);

    // A second worker: the share halves; the first hands its three oldest dumps back.
    const b = balancer('b');
    b.b.start(new Map(), redis);
    await b.b.tick();
    expect(b.b.capacity).toBe(3);
    expect(await b.b.admits(2)).toBe(true);
    expect(await b.b.admits(3)).toBe(false);
    // A burst of starts: the queue grew since the last tick; the share is looked at again.
    for (let i = 6; i < 10; i++) await queue.add('dump', { dumpKey: `k${i}`, runId: `r${i}` });
    expect(await b.b.admits(3)).toBe(true);
    expect(b.b.capacity).toBe(5);
    for (const job of await queue.getJobs(['waiting']))
      if (Number(job.data.dumpKey.slice(1)) >= 6) await job.remove();
    await b.b.tick();
    await a.b.tick();
    expect(a.b.capacity).toBe(3);
    expect([...runsA.values()].map((r) => r.handedBack)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    // Handed back once: the next tick does not count them again.
    await a.b.tick();
    expect([...runsA.values()].filter((r) => r.handedBack)).toHaveLength(3);

    // The second starts closing: it leaves the set at once; the first takes all again.
    b.worker.emit('closing');
    await new Promise((resolve) => setImmediate(resolve));
    await b.b.tick();
    await expect.poll(async () => (await a.b.tick(), a.b.capacity)).toBe(6);
    a.worker.emit('closing');
  });

  it('never exceeds WORKER_CONCURRENCY, and forgets a worker that went silent', async () => {
    const c = balancer('c', 2);
    c.b.start(new Map(), redis);
    await c.b.tick(); // the first tick, started by start()
    // A worker killed long ago still in the set: dropped at the next tick.
    await redis.zadd(`${prefix}:takers:${queueName}`, Date.now() - 3_600_000, 'dead');
    await c.b.tick();
    expect(await redis.zrange(`${prefix}:takers:${queueName}`, 0, -1)).toEqual(['c']);
    expect(c.b.capacity).toBe(2);
    c.worker.emit('closing');
  });

  it('after a refusal, keeps the worker off the queue until no job waits for anyone', async () => {
    const name = uniqueName('hold');
    const q = new Queue<DumpJobData>(name, { connection: redis, prefix });
    for (let i = 0; i < 3; i++) await q.add('dump', { dumpKey: `h${i}`, runId: `s${i}` });
    const fetcher = new Worker<DumpJobData>(name, null, {
      connection: redis,
      prefix,
      autorun: false,
    });
    for (const token of ['t0', 't1']) expect(await fetcher.getNextJob(token)).toBeDefined();
    // x holds those two; with y taking jobs too its share is 2: no room here for the third.
    await redis.zadd(`${prefix}:takers:${name}`, Date.now(), 'y');
    const intervalMs = 5_000;
    const x = new FairShareBalancer({
      redisPrefix: prefix,
      queueName: name,
      workerId: 'x',
      maxConcurrency: 50,
      intervalMs,
      logger: pino({ level: 'silent' }),
    });
    const worker = new EventEmitter();
    x.attach(worker as unknown as Parameters<FairShareBalancer['attach']>[0]);
    x.start(new Map(), redis);
    const since = Date.now();
    let roomSeen = false;
    const holding = x.untilRoom(() => 2).then(() => (roomSeen = true));
    // A look a tenth of a tick in: the third job still waits.
    await new Promise((resolve) => setTimeout(resolve, intervalMs / 10 + 200));
    expect(roomSeen).toBe(false);
    // Another worker takes it: the next look lets x fetch again, before the tick's cap.
    expect(await fetcher.getNextJob('t2')).toBeDefined();
    await holding;
    expect(Date.now() - since).toBeLessThan(intervalMs);
    worker.emit('closing');
    await fetcher.close();
    await q.obliterate({ force: true });
    await q.close();
  });

  it('a job refused while another worker has room for it comes back sooner than one no worker has room for', async () => {
    // Jobs made active by a real BullMQ fetch: the share counts them, and so does "room elsewhere".
    const burst = async (name: string, jobs: number, active: number) => {
      const q = new Queue<DumpJobData>(name, { connection: redis, prefix });
      for (let i = 0; i < jobs; i++) await q.add('dump', { dumpKey: `k${i}`, runId: `r${i}` });
      const fetcher = new Worker<DumpJobData>(name, null, {
        connection: redis,
        prefix,
        autorun: false,
      });
      for (let i = 0; i < active; i++) expect(await fetcher.getNextJob(`t${i}`)).toBeDefined();
      return { q, fetcher };
    };
    const pair = (name: string, maxConcurrency: number) =>
      ['x', 'y'].map((workerId) => {
        const b = new FairShareBalancer({
          redisPrefix: prefix,
          queueName: name,
          workerId,
          maxConcurrency,
          intervalMs: 60_000,
          logger: pino({ level: 'silent' }),
        });
        b.start(new Map(), redis);
        return b;
      });

    // x holds 2 and fetched a third of 4 jobs; y holds none: x is ahead of its share of 2.
    const ahead = uniqueName('ahead');
    const a = await burst(ahead, 4, 3);
    const [x] = pair(ahead, 50);
    expect(await x!.admits(2)).toBe(false);
    expect(x!.capacity).toBe(2);
    expect(x!.refusedDelayMs).toBe(0);

    // Both at WORKER_CONCURRENCY 2 (x holds 2, y 2, and x fetched a fifth): no one has room.
    const full = uniqueName('full');
    const f = await burst(full, 5, 5);
    const [x2] = pair(full, 2);
    expect(await x2!.admits(2)).toBe(false);
    expect(x2!.refusedDelayMs).toBe(30_000);

    for (const { q, fetcher } of [a, f]) {
      await fetcher.close();
      await q.obliterate({ force: true });
      await q.close();
    }
  });
});
