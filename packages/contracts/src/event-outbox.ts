import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RegistryKeys } from './keys.js';

/**
 * Dump events waiting for their receivers, in Redis: whichever process notices a state change
 * appends the event, and any process running a deliverer sends it, so a worker that dies takes
 * no event with it. One channel per (dump, receiver URL): a list delivered strictly from its head,
 * by one deliverer at a time (a lease in the `due` sorted set), so each receiver sees a dump's
 * events in order; channels are independent, so a dead receiver only holds back its own.
 *
 * Keys (prefix `<p>:outbox`): `seq:<dumpKey>` the per-dump sequence counter, `list:<channel>`
 * the events, `channel:<channel>` the channel's URL, lease token and attempts, `due` channel →
 * the time it may next be tried (a claimed channel's score is its lease's end).
 */
export interface ClaimedDelivery {
  channel: string;
  url: string;
  /** The event exactly as stored: the bytes that are signed and sent. */
  body: string;
  /** Failed attempts so far for this head event. */
  attempts: number;
  token: string;
}

/** How long a per-dump sequence counter outlives the dump's last event. */
const SEQUENCE_TTL_SECONDS = 30 * 24 * 3600;

// KEYS: seq counter, due zset, ending zset, told key ('' = not a run's end).
// ARGV: key prefix, event JSON (an object without `sequence`), now, ttl, run member, then
// channel/url pairs. → the event's sequence number; 0 when this run's end was already told.
const ENQUEUE = `
if KEYS[4] ~= '' then
  if redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) == false then return 0 end
  redis.call('ZREM', KEYS[3], ARGV[5])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local entry = '{"sequence":' .. seq .. ',' .. string.sub(ARGV[2], 2)
for i = 6, #ARGV, 2 do
  local channel = ARGV[i]
  redis.call('RPUSH', ARGV[1] .. 'list:' .. channel, entry)
  redis.call('HSET', ARGV[1] .. 'channel:' .. channel, 'url', ARGV[i + 1])
  redis.call('ZADD', KEYS[2], 'NX', ARGV[3], channel)
end
return seq
`;

// KEYS: due zset. ARGV: key prefix, now, lease ms, max channels, token.
// → flat list of channel, url, head event, attempts.
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local claimed = {}
for _, channel in ipairs(due) do
  local head = redis.call('LINDEX', ARGV[1] .. 'list:' .. channel, 0)
  local meta = ARGV[1] .. 'channel:' .. channel
  if head then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), channel)
    redis.call('HSET', meta, 'token', ARGV[5])
    table.insert(claimed, channel)
    table.insert(claimed, redis.call('HGET', meta, 'url') or '')
    table.insert(claimed, head)
    table.insert(claimed, redis.call('HGET', meta, 'attempts') or '0')
  else
    redis.call('ZREM', KEYS[1], channel)
    redis.call('DEL', meta)
  end
end
return claimed
`;

// KEYS: due zset. ARGV: key prefix, channel, token, now. The head was delivered (or dropped).
const ACK = `
local meta = ARGV[1] .. 'channel:' .. ARGV[2]
if redis.call('HGET', meta, 'token') ~= ARGV[3] then return 0 end
local list = ARGV[1] .. 'list:' .. ARGV[2]
redis.call('LPOP', list)
redis.call('HDEL', meta, 'token', 'attempts', 'lastError')
if redis.call('LLEN', list) > 0 then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('DEL', meta)
end
return 1
`;

// KEYS: due zset. ARGV: key prefix, channel, token, retry at, error text.
const RETRY = `
local meta = ARGV[1] .. 'channel:' .. ARGV[2]
if redis.call('HGET', meta, 'token') ~= ARGV[3] then return 0 end
redis.call('HINCRBY', meta, 'attempts', 1)
redis.call('HSET', meta, 'lastError', ARGV[5])
redis.call('HDEL', meta, 'token')
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
return 1
`;

type OutboxCommands = {
  hlsdumpOutboxEnqueue(...args: (string | number)[]): Promise<number>;
  hlsdumpOutboxClaim(...args: (string | number)[]): Promise<string[]>;
  hlsdumpOutboxAck(...args: (string | number)[]): Promise<number>;
  hlsdumpOutboxRetry(...args: (string | number)[]): Promise<number>;
};

export class EventOutbox {
  private readonly commands: OutboxCommands;
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    keys: RegistryKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.base = `${keys.prefix}:outbox:`;
    redis.defineCommand('hlsdumpOutboxEnqueue', { numberOfKeys: 4, lua: ENQUEUE });
    redis.defineCommand('hlsdumpOutboxClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('hlsdumpOutboxAck', { numberOfKeys: 1, lua: ACK });
    redis.defineCommand('hlsdumpOutboxRetry', { numberOfKeys: 1, lua: RETRY });
    this.commands = redis as unknown as OutboxCommands;
  }

  private get dueKey(): string {
    return `${this.base}due`;
  }

  /**
   * Appends one event of a dump for every target, numbered with the dump's next sequence
   * number (the number is written into the stored JSON as its first field). Returns it.
   */
  async enqueue(
    dumpKey: string,
    event: Record<string, unknown>,
    targets: readonly string[],
    /** This event tells the end of run `endOf`: appended once per run, whoever tries. */
    endOf?: string,
  ): Promise<number> {
    const json = JSON.stringify(event);
    if (!json.startsWith('{') || json === '{}')
      throw new TypeError('an event is a JSON object with at least one field');
    const pairs = [...new Set(targets)].flatMap((url) => [channelOf(dumpKey, url), url]);
    return this.commands.hlsdumpOutboxEnqueue(
      `${this.base}seq:${dumpKey}`,
      this.dueKey,
      this.endingKey,
      endOf === undefined ? '' : `${this.base}told:${dumpKey}:${endOf}`,
      this.base,
      json,
      this.now(),
      SEQUENCE_TTL_SECONDS,
      endOf === undefined ? '' : `${dumpKey}:${endOf}`,
      ...pairs,
    );
  }

  private get endingKey(): string {
    return `${this.base}ending`;
  }

  /**
   * A run is about to be recorded as ended: noted before the registry write, so that if the
   * worker dies before its end event is appended, a sweep finds the run and appends it.
   */
  async expectEnd(dumpKey: string, runId: string): Promise<void> {
    await this.redis.zadd(this.endingKey, this.now(), `${dumpKey}:${runId}`);
  }

  /** Runs noted as ending longer than `olderThanMs` ago whose end event was not appended. */
  async overdueEnds(olderThanMs: number): Promise<{ dumpKey: string; runId: string }[]> {
    const members = await this.redis.zrangebyscore(
      this.endingKey,
      '-inf',
      this.now() - olderThanMs,
      'LIMIT',
      0,
      100,
    );
    return members.map((member) => {
      const [dumpKey = '', runId = ''] = member.split(':');
      return { dumpKey, runId };
    });
  }

  /** The run needs no end event from a sweep (gone, withdrawn, or someone else's now). */
  async forgetEnd(dumpKey: string, runId: string): Promise<void> {
    await this.redis.zrem(this.endingKey, `${dumpKey}:${runId}`);
  }

  /** Leases up to `max` due channels' head events for `leaseMs`. */
  async claim(max: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (max <= 0) return [];
    const token = randomBytes(8).toString('hex');
    const flat = await this.commands.hlsdumpOutboxClaim(
      this.dueKey,
      this.base,
      this.now(),
      leaseMs,
      max,
      token,
    );
    const claimed: ClaimedDelivery[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      claimed.push({
        channel: flat[i]!,
        url: flat[i + 1]!,
        body: flat[i + 2]!,
        attempts: Number(flat[i + 3]),
        token,
      });
    }
    return claimed;
  }

  /** The head event was delivered (or given up): the next one becomes due at once. */
  async ack(delivery: ClaimedDelivery): Promise<boolean> {
    return (
      (await this.commands.hlsdumpOutboxAck(
        this.dueKey,
        this.base,
        delivery.channel,
        delivery.token,
        this.now(),
      )) === 1
    );
  }

  /** The head event failed; the channel is tried again at `retryAt` (ms since epoch). */
  async retry(delivery: ClaimedDelivery, retryAt: number, error: string): Promise<boolean> {
    return (
      (await this.commands.hlsdumpOutboxRetry(
        this.dueKey,
        this.base,
        delivery.channel,
        delivery.token,
        retryAt,
        error.slice(0, 500),
      )) === 1
    );
  }

  /** Events not delivered yet, over every channel. */
  async pending(): Promise<number> {
    const channels = await this.redis.zrange(this.dueKey, 0, -1);
    if (channels.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const channel of channels) pipeline.llen(`${this.base}list:${channel}`);
    const replies = (await pipeline.exec()) ?? [];
    return replies.reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
  }
}

/** A short, key-safe name for one (dump, receiver) pair. */
function channelOf(dumpKey: string, url: string): string {
  return `${dumpKey}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}
