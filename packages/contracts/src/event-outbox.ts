import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RegistryKeys } from './keys.js';

/**
 * Dump events waiting for their receivers, in Redis. An event is appended by the very registry
 * script that makes the change it tells (see registry-scripts.ts: `running` with markRunning, a
 * gap with the checkpoint save that records it, the end with finish), so the change and its
 * event are one atomic step: a worker that dies takes no event with it, whenever it dies. Any
 * process running a deliverer sends them. One channel per (dump, receiver URL): a list delivered
 * strictly from its head, by one deliverer at a time (a lease in the `due` sorted set), so each
 * receiver sees a dump's events in order; channels are independent, so a dead receiver only
 * holds back its own.
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

/**
 * Events that ride on one registry write, for the dump's receivers. `running` is appended only
 * by the write that first makes the dump Running, `end` only by the one that ends it; a `gap`
 * carries the run's own number `no`, so one sent again (its write's reply was lost) is appended
 * once. Gaps found before the dump first ran wait in its record and follow its `running`.
 */
export interface EventBatch {
  targets: readonly string[];
  events: readonly BatchedEvent[];
}

export type BatchedEvent =
  | { kind: 'running' | 'end'; body: Record<string, unknown> }
  | { kind: 'gap'; no: number; body: Record<string, unknown> };

/** How long a per-dump sequence counter outlives the dump's last event. */
const SEQUENCE_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Lua: `outboxPush(o, json)` appends one event (a JSON object without `sequence`) for every
 * channel of `o` (an outbox argument, see outboxArgument), numbered with the dump's next sequence
 * number, written into the stored JSON as its first field. Returns the number.
 */
export const OUTBOX_PUSH_LUA = `
local function outboxPush(o, json)
  local seq = redis.call('INCR', o.seq)
  redis.call('EXPIRE', o.seq, o.ttl)
  local entry = '{"sequence":' .. seq .. ',' .. string.sub(json, 2)
  for _, pair in ipairs(o.channels) do
    redis.call('RPUSH', o.base .. 'list:' .. pair[1], entry)
    redis.call('HSET', o.base .. 'channel:' .. pair[1], 'url', pair[2])
    redis.call('ZADD', o.base .. 'due', 'NX', o.now, pair[1])
  end
  return seq
end
`;

/**
 * The outbox argument of a script that appends events of `dumpKey` (JSON, decoded in Lua with
 * cjson): where the keys are and who receives them; numbers as strings, so Lua never rounds
 * them. With `batch`, its events too (JSON strings, never re-encoded: the bytes that are signed).
 */
export function outboxArgument(
  keys: RegistryKeys,
  dumpKey: string,
  targets: readonly string[],
  now: number,
  batch?: readonly BatchedEvent[],
): string {
  const base = outboxBase(keys);
  return JSON.stringify({
    base,
    seq: `${base}seq:${dumpKey}`,
    ttl: String(SEQUENCE_TTL_SECONDS),
    now: String(now),
    channels: [...new Set(targets)].map((url) => [channelOf(dumpKey, url), url]),
    events: (batch ?? []).map((event) => ({
      kind: event.kind,
      no: event.kind === 'gap' ? event.no : 0,
      json: eventJson(event.body),
    })),
  });
}

function outboxBase(keys: RegistryKeys): string {
  return `${keys.prefix}:outbox:`;
}

function eventJson(event: Record<string, unknown>): string {
  const json = JSON.stringify(event);
  if (!json.startsWith('{') || json === '{}')
    throw new TypeError('an event is a JSON object with at least one field');
  return json;
}

// ARGV: outbox argument, event JSON. → the event's sequence number.
const ENQUEUE = `${OUTBOX_PUSH_LUA}
return outboxPush(cjson.decode(ARGV[1]), ARGV[2])
`;

// KEYS: due zset. ARGV: key prefix, now, lease ms, max channels, token.
// → the earliest score left in the due set ('' if none), then a flat list of channel, url, head
// event, attempts.
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
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
table.insert(claimed, 1, first[2] or '')
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
    private readonly keys: RegistryKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.base = outboxBase(keys);
    redis.defineCommand('hlsdumpOutboxEnqueue', { numberOfKeys: 0, lua: ENQUEUE });
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
   * number, outside any state change (the registry's scripts append those with the change).
   */
  async enqueue(
    dumpKey: string,
    event: Record<string, unknown>,
    targets: readonly string[],
  ): Promise<number> {
    return this.commands.hlsdumpOutboxEnqueue(
      outboxArgument(this.keys, dumpKey, targets, this.now()),
      eventJson(event),
    );
  }

  /** Leases up to `max` due channels' head events for `leaseMs`. */
  async claim(max: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (max <= 0) return [];
    return (await this.claimDue(max, leaseMs)).claimed;
  }

  /**
   * Leases up to `max` due channels' head events for `leaseMs`, and tells when the outbox holds
   * something due next as far as it knows now (`nextDueAt`, ms since epoch: a retry, a lease
   * running out, a channel left over; undefined when it is empty), so a deliverer can sleep
   * until then instead of polling.
   */
  async claimDue(
    max: number,
    leaseMs: number,
  ): Promise<{ claimed: ClaimedDelivery[]; nextDueAt: number | undefined }> {
    const token = randomBytes(8).toString('hex');
    const [next, ...flat] = await this.commands.hlsdumpOutboxClaim(
      this.dueKey,
      this.base,
      this.now(),
      leaseMs,
      Math.max(0, max),
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
    return { claimed, nextDueAt: next ? Number(next) : undefined };
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
