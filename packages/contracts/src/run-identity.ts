import { randomBytes } from 'node:crypto';

/**
 * Who holds a dump is a run, not a worker: `workerId#token`, the token drawn afresh at each claim.
 * A worker can hold one dump twice, for a moment: after a Redis failover lost its lock renewals
 * and heartbeats, BullMQ hands the dump's job back to the same worker while its first run still
 * writes. Told apart by the token, the older run is fenced out like any other former owner.
 * An identity without `#` (a worker id alone) still works: it names the whole worker.
 */
export function newRunIdentity(workerId: string): string {
  return `${workerId}#${randomBytes(8).toString('hex')}`;
}

/** The holder a record names, from its `owner` and `claim` fields (`holderOf` below, in Lua). */
export function holderOf(
  owner: string | null | undefined,
  claim: string | null | undefined,
): string | undefined {
  if (owner == null) return undefined;
  return claim == null ? owner : `${owner}#${claim}`;
}

/**
 * The same in Lua, for the registry's scripts: the record keeps the worker in `owner` (what the
 * API shows, where stop messages go) and the token in `claim`.
 */
export const RUN_IDENTITY_LUA = `
local function splitIdentity(identity)
  local worker, token = string.match(identity, '^(.*)#([^#]*)$')
  if worker then return worker, token end
  return identity, nil
end
local function holderOf(hash)
  local owner = redis.call('HGET', hash, 'owner')
  if not owner then return nil end
  local token = redis.call('HGET', hash, 'claim')
  if token then return owner .. '#' .. token end
  return owner
end
local function setHolder(hash, identity)
  local worker, token = splitIdentity(identity)
  redis.call('HSET', hash, 'owner', worker)
  if token then redis.call('HSET', hash, 'claim', token) else redis.call('HDEL', hash, 'claim') end
  return worker
end
`;
