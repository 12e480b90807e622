import { OUTBOX_PUSH_LUA } from './event-outbox.js';
import { STATE_PREDICATES_LUA } from './state-lua.js';
import { RUN_IDENTITY_LUA } from './run-identity.js';
import { KEY_PART_LUA } from './keys.js';

/**
 * The registry's state transitions as Lua scripts: each runs atomically in Redis, so two parties
 * (gateway and worker, two gateways, two workers) can never both win a transition.
 *
 * The record stores the name of its output stream's active set (`activeKey`), so every script
 * that ends a dump can release it from its dumpKey alone. (Scripts touch keys they were not
 * given: fine on a standalone Redis or Sentinel; not Redis Cluster.)
 *
 * States are tested only through the predicates generated from dump-record.ts (`isFinal`,
 * `isHeld`); the states a script writes are the moves of `DUMP_TRANSITIONS`, checked by
 * dump-state-machine.test.ts.
 */

const FINALIZE = `${STATE_PREDICATES_LUA}
-- Ends a dump: final state, release its id and infoFile, let the record expire later.
local function finalize(dumpHash, infoFilesKey, dumpKey, state, now, ttl)
  redis.call('HSET', dumpHash, 'state', state, 'endedAt', now, 'updatedAt', now)
  redis.call('HDEL', dumpHash, 'checkpoint', 'heldEvents', 'eventsTold')
  local activeKey = redis.call('HGET', dumpHash, 'activeKey')
  local id = redis.call('HGET', dumpHash, 'id')
  if activeKey and id then redis.call('SREM', activeKey, id) end
  local infoFile = redis.call('HGET', dumpHash, 'infoFile')
  if infoFile and redis.call('HGET', infoFilesKey, infoFile) == dumpKey then
    redis.call('HDEL', infoFilesKey, infoFile)
  end
  if tonumber(ttl) > 0 then redis.call('EXPIRE', dumpHash, ttl) end
end
`;

/**
 * Makes a dump active: its id on its output stream (KEYS[2]), its infoFile reserved (KEYS[3]),
 * listed (KEYS[4]); finalize() undoes the first two. ARGV[1] dumpKey, ARGV[2] id, ARGV[3] infoFile.
 */
const REGISTER = `
local function register()
  redis.call('SADD', KEYS[2], ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[1]) end
  redis.call('SADD', KEYS[4], ARGV[1])
end
`;

/**
 * KEYS[1] is a dump this run (ARGV[1]) of this owner (ARGV[2]) still holds; heldActive() also
 * that it has not ended or gone back to the queue.
 */
const HELD = `${STATE_PREDICATES_LUA}${RUN_IDENTITY_LUA}
local function heldBy(hash, runId, owner)
  return redis.call('HGET', hash, 'runId') == runId and holderOf(hash) == owner
end
local function held()
  return heldBy(KEYS[1], ARGV[1], ARGV[2])
end
local function heldActive(state)
  return held() and isHeld(state)
end
`;

/**
 * `tellEvents(state, arg)`: the events riding on this script's change of KEYS[1] (`arg`: an
 * outbox argument with events, event-outbox.ts; '' = none), appended in the same atomic step.
 * A `running` is appended only if the dump had not run yet (the one run that makes it Running),
 * and the gaps found before it, held in the record meanwhile, follow it; an `end` comes after
 * any still held; a gap whose number this owner already told (its write's reply was lost and it
 * was sent again) is skipped. Called before the script writes the new state.
 */
const TELL_EVENTS = `${OUTBOX_PUSH_LUA}
local function tellEvents(state, arg)
  if arg == '' then return end
  local o = cjson.decode(arg)
  local told = tonumber(redis.call('HGET', KEYS[1], 'eventsTold') or '0')
  local heldJson = redis.call('HGET', KEYS[1], 'heldEvents')
  local held = heldJson and cjson.decode(heldJson) or {}
  local ran = redis.call('HEXISTS', KEYS[1], 'runningAt') == 1 or state == 'Running' or state == 'Stopping'
  local function flushHeld()
    for _, json in ipairs(held) do outboxPush(o, json) end
    held = {}
  end
  for _, e in ipairs(o.events) do
    if e.kind == 'running' then
      if not ran then
        outboxPush(o, e.json)
        flushHeld()
        ran = true
      end
    elseif e.kind == 'end' then
      flushHeld()
      outboxPush(o, e.json)
    elseif e.no > told then
      told = e.no
      if ran then outboxPush(o, e.json) else table.insert(held, e.json) end
    end
  end
  redis.call('HSET', KEYS[1], 'eventsTold', told)
  if #held > 0 then
    redis.call('HSET', KEYS[1], 'heldEvents', cjson.encode(held))
  else
    redis.call('HDEL', KEYS[1], 'heldEvents')
  end
end
`;

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

/**
 * KEYS: dump hash, active set, infofiles hash, dumps set.
 * ARGV: dumpKey, id, infoFile ('' = none), now, runId, jobId, then field/value pairs.
 * → 'OK' | 'DUPLICATE_ID' | 'DUPLICATE_INFO_FILE'
 */
export const reserveScript: ScriptDefinition = {
  numberOfKeys: 4,
  lua: `${FINALIZE}${REGISTER}
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 'DUPLICATE_ID' end
local state = redis.call('HGET', KEYS[1], 'state')
if state and not isFinal(state) then return 'DUPLICATE_ID' end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return 'DUPLICATE_INFO_FILE' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'Queued', 'runId', ARGV[5], 'jobId', ARGV[6], 'activeKey', KEYS[2],
  'stopRequested', '0', 'cancel', '0', 'createdAt', ARGV[4], 'updatedAt', ARGV[4])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
register()
return 'OK'
`,
};

/**
 * A worker took the job. KEYS: dump hash. ARGV: runId, owner, now, staleBefore.
 * A dump another worker owns is taken over only when that owner's heartbeat is older than
 * `staleBefore`: BullMQ redelivered the job because its owner died or froze.
 * → {'OK'} | {'TAKEOVER', previousOwner} | {'OWNED', state, owner, heartbeatAt} | {'GONE'} | {'STALE', state}
 *   | {'NOT_QUEUED', state}
 */
export const claimScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${STATE_PREDICATES_LUA}${RUN_IDENTITY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'GONE'} end
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return {'STALE', state} end
if state == 'Queued' then
  redis.call('HSET', KEYS[1], 'state', 'Starting', 'cancel', '0',
    'startedAt', ARGV[3], 'updatedAt', ARGV[3], 'heartbeatAt', ARGV[3])
  setHolder(KEYS[1], ARGV[2])
  -- A new owner numbers its gap events from 1.
  redis.call('HDEL', KEYS[1], 'eventsTold')
  return {'OK'}
end
if isHeld(state) then
  local owner = redis.call('HGET', KEYS[1], 'owner') or ''
  local beat = tonumber(redis.call('HGET', KEYS[1], 'heartbeatAt') or '0') or 0
  if holderOf(KEYS[1]) ~= ARGV[2] and beat >= tonumber(ARGV[4]) then return {'OWNED', state, owner, tostring(beat)} end
  redis.call('HSET', KEYS[1], 'state', 'Starting', 'previousOwner', owner,
    'takenOverAt', ARGV[3], 'updatedAt', ARGV[3], 'heartbeatAt', ARGV[3])
  setHolder(KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'takeovers', 1)
  redis.call('HDEL', KEYS[1], 'eventsTold')
  -- The previous run died with its worker: one more in a row (a hand-off resets the count).
  redis.call('HINCRBY', KEYS[1], 'crashes', 1)
  return {'TAKEOVER', owner}
end
return {'NOT_QUEUED', state}
`,
};

/**
 * The running dump's checkpoint, saved as it advances, with the gap events it records.
 * KEYS: dump hash. ARGV: runId, owner, now, checkpoint JSON, events ('' = none). → 'OK' | 'LOST'
 */
export const saveCheckpointScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${HELD}${TELL_EVENTS}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not heldActive(state) then return 'LOST' end
tellEvents(state, ARGV[5])
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[4], 'updatedAt', ARGV[3])
return 'OK'
`,
};

/**
 * Redis lost the registry (restarted without persistence) while a worker kept the dump running:
 * the owner writes its record back. Only when no record exists, so nothing newer is overwritten.
 * KEYS: dump hash, active set, infofiles hash, dumps set.
 * ARGV: dumpKey, id, infoFile ('' = none), now, runId, jobId, owner, state, checkpoint, then field/value pairs.
 * → 'OK' | 'EXISTS'
 */
export const restoreScript: ScriptDefinition = {
  numberOfKeys: 4,
  lua: `${REGISTER}${RUN_IDENTITY_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
redis.call('HSET', KEYS[1], 'state', ARGV[8], 'runId', ARGV[5], 'jobId', ARGV[6], 'activeKey', KEYS[2],
  'stopRequested', '0', 'cancel', '0', 'createdAt', ARGV[4], 'updatedAt', ARGV[4],
  'heartbeatAt', ARGV[4], 'restoredAt', ARGV[4])
setHolder(KEYS[1], ARGV[7])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'checkpoint', ARGV[9]) end
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
register()
return 'OK'
`,
};

/**
 * The worker's dump is running (outputPath and infoFile exist), told with its `running` event.
 * KEYS: dump hash. ARGV: runId, owner, now, events ('' = none).
 * → {'OK', stopRequested} | {'CANCELLED'} | {'LOST', state}
 */
export const markRunningScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${HELD}${TELL_EVENTS}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not held() then
  return {'LOST', state or ''}
end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then return {'CANCELLED'} end
if state ~= 'Starting' then return {'LOST', state} end
tellEvents(state, ARGV[4])
redis.call('HSET', KEYS[1], 'state', 'Running', 'runningAt', ARGV[3], 'updatedAt', ARGV[3], 'heartbeatAt', ARGV[3])
return {'OK', redis.call('HGET', KEYS[1], 'stopRequested')}
`,
};

/**
 * The gateway gave up waiting for a start. KEYS: dump hash, infofiles hash. ARGV: runId, now, ttl, dumpKey.
 * → {'WITHDRAWN'} (was Queued: ended, released) | {'CANCELLING', owner} (was Starting: the worker
 *   must abort) | {'GONE'} | {'STALE', state} | {state, owner} (it got further: Running, ended...)
 */
export const withdrawScript: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `${FINALIZE}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'GONE'} end
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return {'STALE', state} end
local owner = redis.call('HGET', KEYS[1], 'owner') or ''
if state == 'Queued' then
  finalize(KEYS[1], KEYS[2], ARGV[4], 'Withdrawn', ARGV[2], ARGV[3])
  return {'WITHDRAWN'}
end
if state == 'Starting' then
  redis.call('HSET', KEYS[1], 'cancel', '1', 'updatedAt', ARGV[2])
  return {'CANCELLING', owner}
end
return {state, owner}
`,
};

/**
 * `beat(hash, runId, owner, now, progress)`: one dump's heartbeat, checked on its own: the run
 * `runId` of holder `owner` still holds the dump (HELD's heldBy), else LOST.
 * → {'OK', stopRequested, cancel} | {'LOST', state}
 */
const BEAT = `${HELD}
local function beat(hash, runId, owner, now, progress)
  local state = redis.call('HGET', hash, 'state')
  if not state or not isHeld(state) or not heldBy(hash, runId, owner) then
    return {'LOST', state or ''}
  end
  redis.call('HSET', hash, 'heartbeatAt', now)
  if progress ~= '' then redis.call('HSET', hash, 'progress', progress) end
  return {'OK', redis.call('HGET', hash, 'stopRequested'), redis.call('HGET', hash, 'cancel')}
end
`;

/**
 * Progress of a running dump, and the durable flags back. KEYS: dump hash, workers zset.
 * ARGV: runId, owner, now, progress JSON ('' = unchanged).
 * → {'OK', stopRequested, cancel} | {'LOST', state}
 */
export const heartbeatScript: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `${BEAT}
local reply = beat(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if reply[1] == 'OK' then redis.call('ZADD', KEYS[2], ARGV[3], (splitIdentity(ARGV[2]))) end
return reply
`,
};

/**
 * The heartbeats of many dumps of one worker in one call, each checked on its own exactly as
 * heartbeatScript does, and the worker's entry in the workers set renewed (as workerAlive).
 * KEYS: workers zset, then one dump hash per dump. ARGV: now, worker id, then per dump runId,
 * owner, progress JSON ('' = unchanged). → one heartbeatScript reply per dump, in order.
 */
export const heartbeatsScript = {
  // The number of keys goes with each call.
  lua: `${BEAT}
local replies = {}
for i = 2, #KEYS do
  local a = 3 + (i - 2) * 3
  replies[i - 1] = beat(KEYS[i], ARGV[a], ARGV[a + 1], ARGV[1], ARGV[a + 2])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return replies
`,
};

/** Running → Stopping. KEYS: dump hash. ARGV: runId, owner, now. → 'OK' | 'LOST' */
export const markStoppingScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${HELD}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not held() then
  return 'LOST'
end
if state ~= 'Running' and state ~= 'Starting' then return 'LOST' end
redis.call('HSET', KEYS[1], 'state', 'Stopping', 'stopRequested', '1', 'updatedAt', ARGV[3])
return 'OK'
`,
};

/**
 * The dump ended, told with its end event. KEYS: dump hash, infofiles hash.
 * ARGV: runId, owner ('' = whoever), final state, now, progress JSON, error JSON, ttl, dumpKey,
 * events ('' = none). → 'OK' | 'GONE' | 'STALE' | 'LOST' | 'ALREADY'
 */
export const finishScript: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `${FINALIZE}${TELL_EVENTS}${RUN_IDENTITY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'GONE' end
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return 'STALE' end
if ARGV[2] ~= '' and holderOf(KEYS[1]) ~= ARGV[2] then return 'LOST' end
if isFinal(state) then return 'ALREADY' end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
tellEvents(state, ARGV[9])
finalize(KEYS[1], KEYS[2], ARGV[8], ARGV[3], ARGV[4], ARGV[7])
return 'OK'
`,
};

/**
 * `requestStop(now, ttl, dumpKey)`: records a stop on KEYS[1] (KEYS[2]: the infofiles hash).
 * → {'STOPPED_QUEUED', runId, jobId} (nobody had it: ended here, released)
 *   | {'PENDING', runId, jobId} (handed off, waiting for a worker: whoever resumes it finalizes)
 *   | {'REQUESTED', runId, jobId, owner} | {'ENDED', runId, state} | {'GONE'}
 */
const REQUEST_STOP = `${FINALIZE}
local function requestStop(now, ttl, dumpKey)
  local state = redis.call('HGET', KEYS[1], 'state')
  if not state then return {'GONE'} end
  local runId = redis.call('HGET', KEYS[1], 'runId')
  local jobId = redis.call('HGET', KEYS[1], 'jobId')
  if isFinal(state) then return {'ENDED', runId, state} end
  redis.call('HSET', KEYS[1], 'stopRequested', '1', 'updatedAt', now)
  if state == 'Queued' then
    local checkpoint = redis.call('HGET', KEYS[1], 'checkpoint')
    if checkpoint and checkpoint ~= '' then return {'PENDING', runId, jobId} end
    finalize(KEYS[1], KEYS[2], dumpKey, 'Withdrawn', now, ttl)
    return {'STOPPED_QUEUED', runId, jobId}
  end
  return {'REQUESTED', runId, jobId, redis.call('HGET', KEYS[1], 'owner') or ''}
end
`;

/**
 * Records a stop durably, telling no one. KEYS: dump hash, infofiles hash. ARGV: now, ttl, dumpKey.
 * → requestStop's reply.
 */
export const requestStopScript: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `${REQUEST_STOP}
return requestStop(ARGV[1], ARGV[2], ARGV[3])
`,
};

/**
 * The gateway's stop: records it (requestStop), then, in the same atomic step, tells whoever waits
 * on the dump: a REQUESTED dump's owner gets its `stop` on its control channel (ARGV[5] followed
 * by the owner as keys.ts encodes it), a STOPPED_QUEUED dump's start request its `withdrawn` on
 * the dump's event channel (ARGV[6]). With an id (ARGV[4]), only if that id is in its output
 * stream's active set (KEYS[3]); otherwise nothing is recorded or told.
 * KEYS: dump hash, infofiles hash, active set.
 * ARGV: now, ttl, dumpKey, id ('' = no check), worker channel prefix, event channel.
 * → {'INACTIVE'} | requestStop's reply.
 */
export const stopAndTellScript: ScriptDefinition = {
  numberOfKeys: 3,
  lua: `${REQUEST_STOP}${KEY_PART_LUA}
if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 0 then return {'INACTIVE'} end
local reply = requestStop(ARGV[1], ARGV[2], ARGV[3])
if reply[1] == 'REQUESTED' and reply[4] ~= '' then
  redis.call('PUBLISH', ARGV[5] .. keyPart(reply[4]),
    cjson.encode({type = 'stop', dumpKey = ARGV[3], runId = reply[2]}))
elseif reply[1] == 'STOPPED_QUEUED' then
  redis.call('PUBLISH', ARGV[6], cjson.encode({type = 'withdrawn', dumpKey = ARGV[3], runId = reply[2]}))
end
return reply
`,
};

/**
 * Hand-off: the owner suspended the dump; it waits, Queued with its checkpoint, for the next
 * worker. The gap events its last checkpoint records go with it.
 * KEYS: dump hash. ARGV: runId, owner, now, checkpoint JSON, progress JSON, events ('' = none).
 * → 'OK' | 'LOST'
 */
export const suspendScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${HELD}${TELL_EVENTS}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not heldActive(state) then return 'LOST' end
tellEvents(state, ARGV[6])
redis.call('HSET', KEYS[1], 'state', 'Queued', 'checkpoint', ARGV[4], 'updatedAt', ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[5]) end
redis.call('HDEL', KEYS[1], 'owner', 'claim', 'crashes')
return 'OK'
`,
};
