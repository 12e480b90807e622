import { beforeAll, describe, expect, it } from 'vitest';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { DumpRegistry } from './dump-registry.js';
import { dumpKeyOf, jobIdFor, newRunId } from './dump-identity.js';
import {
  DUMP_STATES,
  DUMP_TRANSITIONS,
  isFinalState,
  isHeldState,
  type DumpState,
} from './dump-record.js';
import { STATE_PREDICATES_LUA } from './state-lua.js';

/**
 * The registry's scripts against the state table of dump-record.ts: every script is run on a
 * record in every state, and the moves they make must be exactly DUMP_TRANSITIONS — none outside
 * it, and every move it lists made by some script.
 */
const db = useRedisPerFile();
let registry: DumpRegistry;

beforeAll(() => {
  registry = new DumpRegistry(db.redis, { prefix: uniqueName('states') });
});

const OWNER = 'worker-a';
let counter = 0;

/**
 * A record of its own, put in `state` as the scripts leave it: owned by OWNER unless Queued
 * (a reserve or a hand-off leaves no owner), its heartbeat long stale.
 */
async function recordIn(state: DumpState, withCheckpoint: boolean) {
  const id = `d${++counter}`;
  const p = {
    vhost: 'default',
    app: 'app',
    stream: 's',
    outputStreamName: 's',
    id,
    outputPath: `/out/${id}`,
    playlists: ['llhls.m3u8'],
    originBaseUrl: 'http://origin/app/s/',
  };
  const dumpKey = dumpKeyOf(p);
  const runId = newRunId();
  await registry.reserve({ ...p, dumpKey, runId, jobId: jobIdFor(dumpKey, runId) });
  const fields: Record<string, string> = { state, heartbeatAt: '0' };
  if (state !== 'Queued') fields.owner = OWNER;
  if (withCheckpoint) fields.checkpoint = '{}';
  await db.redis.hset(registry.keys.dump(dumpKey), fields);
  return { dumpKey, runId };
}

/** Every script that may change a record's state, called as its callers call it. */
const SCRIPTS: Record<string, (dumpKey: string, runId: string) => Promise<unknown>> = {
  // Another worker, the owner's heartbeat stale: a takeover wherever one is possible.
  claim: (k, r) => registry.claim(k, r, 'worker-b', 1),
  claimByOwner: (k, r) => registry.claim(k, r, OWNER, 1),
  markRunning: (k, r) => registry.markRunning(k, r, OWNER),
  withdraw: (k, r) => registry.withdraw(k, r),
  heartbeat: (k, r) => registry.heartbeat(k, r, OWNER),
  markStopping: (k, r) => registry.markStopping(k, r, OWNER),
  finishCompleted: (k, r) => registry.finish(k, r, OWNER, 'Completed'),
  finishError: (k, r) => registry.finish(k, r, OWNER, 'Error'),
  finishWithdrawn: (k, r) => registry.finish(k, r, OWNER, 'Withdrawn'),
  requestStop: (k) => registry.requestStop(k),
  stopAndTell: async (k) => registry.stopAndTell(k, (await registry.get(k))!, { ifActive: true }),
  suspend: (k, r) => registry.suspend(k, r, OWNER, {}),
  saveCheckpoint: (k, r) => registry.saveCheckpoint(k, r, OWNER, {}),
  clearCrashes: (k, r) => registry.clearCrashes(k, r, OWNER),
};

describe('the state machine of a dump', () => {
  it('the Lua predicates say what dump-record.ts says, for every state', async () => {
    for (const state of [...DUMP_STATES, 'Unknown']) {
      const [final, held] = (await db.redis.eval(
        `${STATE_PREDICATES_LUA}\nreturn {isFinal(ARGV[1]) and 1 or 0, isHeld(ARGV[1]) and 1 or 0}`,
        0,
        state,
      )) as number[];
      expect([final === 1, held === 1], state).toEqual([
        isFinalState(state as DumpState),
        isHeldState(state),
      ]);
    }
  });

  it('every script moves a record only along DUMP_TRANSITIONS, and every move is made', async () => {
    const made = new Set<string>();
    const outside: string[] = [];
    for (const [name, run] of Object.entries(SCRIPTS)) {
      for (const from of DUMP_STATES) {
        for (const withCheckpoint of [false, true]) {
          const { dumpKey, runId } = await recordIn(from, withCheckpoint);
          const reply = await run(dumpKey, runId);
          const [to, owner] = await db.redis.hmget(registry.keys.dump(dumpKey), 'state', 'owner');
          // A takeover moves Starting/Running/Stopping to Starting under a new owner.
          const moved = to !== from || (from !== 'Queued' && owner !== OWNER);
          if (!moved) continue;
          const move = `${from} → ${to}`;
          if (!DUMP_TRANSITIONS[from].includes(to as DumpState))
            outside.push(`${name}: ${move} (${JSON.stringify(reply)})`);
          made.add(move);
        }
      }
    }
    expect(outside).toEqual([]);
    const listed = DUMP_STATES.flatMap((from) =>
      DUMP_TRANSITIONS[from].map((to) => `${from} → ${to}`),
    );
    expect([...made].sort()).toEqual([...listed].sort());
  });

  it('a record is created Queued (a start) or Running (written back after Redis lost it)', async () => {
    const { dumpKey, runId } = await recordIn('Queued', false);
    expect(await db.redis.hget(registry.keys.dump(dumpKey), 'state')).toBe('Queued');
    const record = (await registry.get(dumpKey))!;
    await db.redis.del(registry.keys.dump(dumpKey));
    expect(await registry.restore({ ...record, runId }, OWNER, undefined)).toBe(true);
    expect(await db.redis.hget(registry.keys.dump(dumpKey), 'state')).toBe('Running');
  });
});
