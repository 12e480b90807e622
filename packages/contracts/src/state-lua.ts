import { FINAL_STATES, HELD_STATES, type DumpState } from './dump-record.js';

/** `state == 'A' or state == 'B'`: a Lua test of membership in one of dump-record.ts's lists. */
function oneOf(states: readonly DumpState[]): string {
  return states.map((state) => `state == '${state}'`).join(' or ');
}

/**
 * The state predicates every registry script uses, written from the lists in dump-record.ts so
 * that Lua never spells a list of states of its own. `isFinal(state)`: the dump ended;
 * `isHeld(state)`: a worker holds it.
 */
export const STATE_PREDICATES_LUA = `
local function isFinal(state)
  return ${oneOf(FINAL_STATES)}
end
local function isHeld(state)
  return ${oneOf(HELD_STATES)}
end
`;
