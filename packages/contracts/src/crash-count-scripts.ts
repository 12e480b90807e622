import type { ScriptDefinition } from './registry-scripts.js';
import { STATE_PREDICATES_LUA } from './state-lua.js';
import { RUN_IDENTITY_LUA } from './run-identity.js';

/**
 * The run has stayed up long enough to prove the dump does not take its worker down: the count of
 * runs in a row that died with their worker starts again from zero. Only its owner may clear it.
 * KEYS: dump hash. ARGV: runId, owner. → 'OK' | 'LOST'
 */
export const clearCrashesScript: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${STATE_PREDICATES_LUA}${RUN_IDENTITY_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] or holderOf(KEYS[1]) ~= ARGV[2]
  or not isHeld(state) then
  return 'LOST'
end
redis.call('HDEL', KEYS[1], 'crashes')
return 'OK'
`,
};
