import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventOutbox } from './event-outbox.js';
import { registryKeys } from './keys.js';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';

let clock = 1_000_000;
let outbox: EventOutbox;
/** A second process's view of the same outbox (its own connection). */
let other: EventOutbox;
let otherRedis: Redis;

const db = useRedisPerFile();
beforeAll(() => {
  otherRedis = new Redis(db.server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await otherRedis.quit();
});
beforeEach(() => {
  const keys = registryKeys(uniqueName('outbox'));
  outbox = new EventOutbox(db.redis, keys, () => clock);
  other = new EventOutbox(otherRedis, keys, () => clock);
});

const event = (type: string) => ({ type, time: new Date(clock).toISOString() });
const sequenceOf = (body: string) => (JSON.parse(body) as { sequence: number }).sequence;

describe('event outbox in Redis', () => {
  it('numbers a dump’s events and stores them as sent, the sequence first', async () => {
    expect(await outbox.enqueue('d1', event('running'), ['http://a/'])).toBe(1);
    expect(await outbox.enqueue('d1', event('gap'), ['http://a/'])).toBe(2);
    expect(await outbox.enqueue('d2', event('running'), ['http://a/'])).toBe(1);
    const [claimed] = (await outbox.claim(10, 5_000)).filter((c) => c.channel.startsWith('d1'));
    expect(claimed!.body).toBe(
      `{"sequence":1,"type":"running","time":"${new Date(clock).toISOString()}"}`,
    );
    expect(await outbox.pending()).toBe(3);
  });

  it('delivers one channel strictly from its head, one holder at a time', async () => {
    for (const type of ['running', 'gap', 'completed'])
      await outbox.enqueue('d1', event(type), ['http://a/']);
    const first = await outbox.claim(10, 5_000);
    expect(first.map((c) => sequenceOf(c.body))).toEqual([1]);
    // Leased: nobody else gets the channel, not even its next event.
    expect(await other.claim(10, 5_000)).toEqual([]);
    expect(await outbox.ack(first[0]!)).toBe(true);
    const second = await other.claim(10, 5_000);
    expect(second.map((c) => sequenceOf(c.body))).toEqual([2]);
  });

  it('a failed head waits for its retry time, then comes back before anything after it', async () => {
    await outbox.enqueue('d1', event('running'), ['http://a/']);
    await outbox.enqueue('d1', event('gap'), ['http://a/']);
    const [head] = await outbox.claim(1, 5_000);
    expect(await outbox.retry(head!, clock + 2_000, 'the receiver answered 500')).toBe(true);
    expect(await outbox.claim(10, 5_000)).toEqual([]);
    clock += 2_000;
    const [again] = await outbox.claim(10, 5_000);
    expect(sequenceOf(again!.body)).toBe(1);
    expect(again!.attempts).toBe(1);
  });

  it('tells when something is due next: a retry, a lease running out, nothing once delivered', async () => {
    expect((await outbox.claimDue(10, 5_000)).nextDueAt).toBeUndefined();
    await outbox.enqueue('d1', event('running'), ['http://a/']);
    const first = await outbox.claimDue(10, 5_000);
    expect(first.claimed).toHaveLength(1);
    // Leased: due again when the lease runs out (should this holder die).
    expect(first.nextDueAt).toBe(clock + 5_000);
    expect(await outbox.retry(first.claimed[0]!, clock + 2_000, 'the receiver answered 500')).toBe(
      true,
    );
    const waiting = await other.claimDue(10, 5_000);
    expect(waiting).toEqual({ claimed: [], nextDueAt: clock + 2_000 });
    clock += 2_000;
    const [again] = (await other.claimDue(10, 5_000)).claimed;
    expect(await other.ack(again!)).toBe(true);
    expect((await outbox.claimDue(10, 5_000)).nextDueAt).toBeUndefined();
  });

  it('a holder that died loses its lease: another takes the same head, and the dead one cannot ack it', async () => {
    await outbox.enqueue('d1', event('running'), ['http://a/']);
    await outbox.enqueue('d1', event('completed'), ['http://a/']);
    const [dead] = await outbox.claim(1, 5_000);
    clock += 5_001;
    const [taken] = await other.claim(1, 5_000);
    expect(taken!.body).toBe(dead!.body);
    expect(await outbox.ack(dead!)).toBe(false);
    expect(await other.ack(taken!)).toBe(true);
    const [next] = await other.claim(1, 5_000);
    expect(sequenceOf(next!.body)).toBe(2);
  });

  it('each receiver is its own channel: a dead one holds back only its own events', async () => {
    await outbox.enqueue('d1', event('running'), ['http://dead/', 'http://alive/']);
    await outbox.enqueue('d1', event('completed'), ['http://dead/', 'http://alive/']);
    const claimed = await outbox.claim(10, 5_000);
    const dead = claimed.find((c) => c.url === 'http://dead/')!;
    const alive = claimed.find((c) => c.url === 'http://alive/')!;
    await outbox.retry(dead, clock + 60_000, 'connection refused');
    await outbox.ack(alive);
    const next = await outbox.claim(10, 5_000);
    expect(next.map((c) => [c.url, sequenceOf(c.body)])).toEqual([['http://alive/', 2]]);
    await outbox.ack(next[0]!);
    expect(await outbox.pending()).toBe(2);
  });
});
