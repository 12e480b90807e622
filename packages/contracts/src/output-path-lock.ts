import type { Redis } from 'ioredis';
import type { RegistryKeys } from './keys.js';
import { STATE_PREDICATES_LUA } from './state-lua.js';

/**
 * One outputPath, one active dump (docs/api.md#start-checks, check 8), decided in Redis so two starts racing for
 * the same path cannot both win. A lock names the run that took it; it counts as held while that
 * run's record is active, or, before the record exists (the start is still being reserved), for
 * `graceMs`. So a lock whose dump ended, was withdrawn, or whose gateway died mid-start frees
 * itself without anyone having to release it; the worker still releases it when a dump ends.
 */
export interface OutputPathHolder {
  dumpKey: string;
  runId: string;
  id: string;
  /** `vhost/app/outputStreamName`. */
  streamPath: string;
  /** When the lock was taken, ms since epoch. */
  at: number;
}

export type AcquireOutputPathResult = { ok: true } | { ok: false; holder: OutputPathHolder };

/** Whether a lock's holder still counts. ARGV[4] now, ARGV[5] graceMs, ARGV[6] dump hash prefix. */
const HOLDER_ACTIVE = `${STATE_PREDICATES_LUA}
local function holderActive(holder)
  local dumpHash = ARGV[6] .. holder.dumpKey
  if redis.call('HGET', dumpHash, 'runId') == holder.runId then
    local state = redis.call('HGET', dumpHash, 'state')
    return state and not isFinal(state)
  end
  return tonumber(ARGV[4]) - tonumber(holder.at) < tonumber(ARGV[5])
end
`;

// KEYS: locks hash. ARGV: path, entry JSON, runId, now, graceMs, dump hash prefix.
// → nil (taken) | the active holder's entry.
const ACQUIRE = `${HOLDER_ACTIVE}
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local holder = cjson.decode(held)
  if holder.runId ~= ARGV[3] and holderActive(holder) then return held end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return false
`;

// Same ARGV as ACQUIRE (entry and runId unused). → the active holder's entry, or nil.
const PEEK = `${HOLDER_ACTIVE}
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and holderActive(cjson.decode(held)) then return held end
return false
`;

const RELEASE = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and cjson.decode(held).runId == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`;

type LockCommands = {
  hlsdumpAcquireOutputPath(...args: (string | number)[]): Promise<string | null>;
  hlsdumpReleaseOutputPath(...args: (string | number)[]): Promise<number>;
  hlsdumpPeekOutputPath(...args: (string | number)[]): Promise<string | null>;
};

export class OutputPathLocks {
  private readonly commands: LockCommands;

  constructor(
    redis: Redis,
    private readonly keys: RegistryKeys,
    /** How long a lock taken for a start whose record does not exist yet stays held. */
    private readonly graceMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hlsdumpAcquireOutputPath', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('hlsdumpReleaseOutputPath', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('hlsdumpPeekOutputPath', { numberOfKeys: 1, lua: PEEK });
    this.commands = redis as unknown as LockCommands;
  }

  private get key(): string {
    return `${this.keys.prefix}:outputpaths`;
  }

  async acquire(
    outputPath: string,
    holder: Omit<OutputPathHolder, 'at'>,
  ): Promise<AcquireOutputPathResult> {
    const now = this.now();
    const entry: OutputPathHolder = { ...holder, at: now };
    const held = await this.commands.hlsdumpAcquireOutputPath(
      this.key,
      outputPath,
      JSON.stringify(entry),
      holder.runId,
      now,
      this.graceMs,
      this.keys.dump(''),
    );
    return held === null
      ? { ok: true }
      : { ok: false, holder: JSON.parse(held) as OutputPathHolder };
  }

  /** The active dump holding the path, if any (a look only: acquire() decides). */
  async holder(outputPath: string): Promise<OutputPathHolder | undefined> {
    const held = await this.commands.hlsdumpPeekOutputPath(
      this.key,
      outputPath,
      '',
      '',
      this.now(),
      this.graceMs,
      this.keys.dump(''),
    );
    return held === null ? undefined : (JSON.parse(held) as OutputPathHolder);
  }

  /** Frees the path if `runId` still holds it. */
  async release(outputPath: string, runId: string): Promise<boolean> {
    return (await this.commands.hlsdumpReleaseOutputPath(this.key, outputPath, runId)) === 1;
  }
}
