import type { Redis } from 'ioredis';
import { recordFromHash, type DumpRecord } from './dump-record.js';
import type { RegistryKeys } from './keys.js';
import { STATE_PREDICATES_LUA } from './state-lua.js';

/**
 * Earlier runs of a reused id. A dump's record lives under its identity, so a new start of the
 * same id replaces it; before that, an ended record is copied here, with the time it had left
 * to live, and the list and status endpoints show it until it expires like any ended record.
 */
const ARCHIVE = `${STATE_PREDICATES_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not isFinal(state) then return 0 end
local runId = redis.call('HGET', KEYS[1], 'runId')
local member = ARGV[2] .. ':' .. runId
local target = ARGV[1] .. member
if redis.call('EXISTS', target) == 1 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('HSET', target, unpack(redis.call('HGETALL', KEYS[1])))
if ttl > 0 then redis.call('PEXPIRE', target, ttl) end
redis.call('SADD', KEYS[2], member)
return 1
`;

type HistoryCommands = {
  hlsdumpArchiveRun(...args: (string | number)[]): Promise<number>;
};

export class RunHistory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RegistryKeys,
  ) {
    redis.defineCommand('hlsdumpArchiveRun', { numberOfKeys: 2, lua: ARCHIVE });
  }

  private runKey(member: string): string {
    return `${this.keys.prefix}:run:${member}`;
  }

  private get indexKey(): string {
    return `${this.keys.prefix}:runs`;
  }

  /** Keeps the dump's current record, if it has ended, as an earlier run. */
  async archive(dumpKey: string): Promise<boolean> {
    const commands = this.redis as unknown as HistoryCommands;
    return (
      (await commands.hlsdumpArchiveRun(
        this.keys.dump(dumpKey),
        this.indexKey,
        this.runKey(''),
        dumpKey,
      )) === 1
    );
  }

  /** Every archived run whose record has not expired yet. */
  async list(): Promise<DumpRecord[]> {
    const members = await this.redis.smembers(this.indexKey);
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const member of members) pipeline.hgetall(this.runKey(member));
    const replies = (await pipeline.exec()) ?? [];
    const records: DumpRecord[] = [];
    const expired: string[] = [];
    replies.forEach(([error, hash], index) => {
      const member = members[index];
      if (error || member === undefined) return;
      const dumpKey = member.split(':')[0] ?? member;
      const record = recordFromHash(dumpKey, hash as Record<string, string>);
      if (record) records.push(record);
      else expired.push(member);
    });
    if (expired.length > 0) await this.redis.srem(this.indexKey, ...expired);
    return records;
  }
}
