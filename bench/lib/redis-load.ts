// The Redis load of keeping dumps alive (registry heartbeats, BullMQ lock renewals and stalled-job
// checks), computed from the settings, and Redis's own count of what it ran (INFO commandstats).
import {
  dumpKeyOf,
  jobIdFor,
  newRunId,
  type DumpRegistry,
  type ProgressSnapshot,
} from '@hlsdump/contracts';
import type { Redis } from 'ioredis';

export interface LoadSettings {
  dumps: number;
  workers: number;
  heartbeatMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  checkpointsPerDumpPerSecond?: number;
}

export interface ExpectedLoad {
  workers: number;
  /** Commands per second by Redis command name (lower case, as INFO commandstats names them). */
  byCommand: Record<string, number>;
  total: number;
  keepAlive: number;
  heartbeats: number;
  lockRenewals: number;
}

/**
 * Commands per second in steady state for `dumps` running on `workers` worker processes.
 * - Registry heartbeat, per dump every heartbeatMs: 6 HGET, 2 HSET (heartbeatAt, progress),
 *   inside one script per worker and period (hlsdumpHeartbeats) that also ZADDs the worker.
 * - BullMQ lock renewal: each worker's lock manager ticks every lockDuration / 4 and extends
 *   every job it holds in one script (extendLocks): GET, SET PX, SREM per job.
 * - BullMQ stalled check, per worker every stalledInterval: one script whose EXISTS on the
 *   stalled-check key lets one worker per interval do the work (SET, SMEMBERS, LRANGE, SADD of
 *   the active list: a few commands whatever the number of dumps, each over every active job).
 *
 * Not heartbeats nor renewals, but in any measurement: each dump saves its checkpoint before each
 * chunklist rewrite (`checkpointsPerDumpPerSecond`: renditions / segment seconds), one script
 * (hlsdumpSaveCheckpoint) of 3 HGET and 1 HSET.
 */
export function expectedLoad({
  dumps,
  workers,
  heartbeatMs,
  lockDurationMs,
  stalledIntervalMs,
  checkpointsPerDumpPerSecond = 0,
}: LoadSettings): ExpectedLoad {
  const beats = dumps / (heartbeatMs / 1_000);
  const workerBeats = workers / (heartbeatMs / 1_000);
  const renewTicks = workers / (lockDurationMs / 4 / 1_000);
  const renewals = dumps / (lockDurationMs / 4 / 1_000);
  const stalledCalls = workers / (stalledIntervalMs / 1_000);
  const stalledRuns = 1 / (stalledIntervalMs / 1_000);
  const saves = dumps * checkpointsPerDumpPerSecond;
  const byCommand = {
    evalsha: workerBeats + renewTicks + stalledCalls + saves,
    // The holder is checked by worker and claim token (one HGET each) in both scripts.
    hget: 6 * beats + 4 * saves,
    hset: 2 * beats + saves,
    zadd: workerBeats,
    get: renewals,
    set: renewals + stalledRuns,
    srem: renewals,
    exists: stalledCalls,
    sadd: stalledRuns,
    lrange: stalledRuns,
    smembers: stalledRuns,
  };
  const total = Object.values(byCommand).reduce((sum, rate) => sum + rate, 0);
  const keepAlive = total - 5 * saves;
  return { workers, byCommand, total, keepAlive, heartbeats: beats, lockRenewals: renewals };
}

/**
 * `INFO commandstats` → calls per second by command name over `seconds`, and the microseconds of
 * Redis time per second spent in each (a script's time includes the commands it called).
 */
export function measuredRates(
  commandstats: string,
  seconds: number,
): { rates: Record<string, number>; usecPerSecond: Record<string, number> } {
  const rates: Record<string, number> = {};
  const usecPerSecond: Record<string, number> = {};
  for (const line of commandstats.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (!match) continue;
    const [, name = '', calls, usec] = match;
    if (name.startsWith('config') || name === 'info') continue;
    rates[name] = Number(calls) / seconds;
    usecPerSecond[name] = Number(usec) / seconds;
  }
  return { rates, usecPerSecond };
}

/**
 * The same checks and writes as the registry's heartbeat script, written without the shared
 * helper functions (HELD, FINALIZE) that script defines on every call: measured beside it to show
 * what those definitions cost Redis per call.
 */
export const INLINE_HEARTBEAT_LUA = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'Completed' or state == 'Error' or state == 'Withdrawn' or state == 'Queued'
  or redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return {'LOST', state or ''}
end
redis.call('HSET', KEYS[1], 'heartbeatAt', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[4]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return {'OK', redis.call('HGET', KEYS[1], 'stopRequested'), redis.call('HGET', KEYS[1], 'cancel')}
`;

/**
 * Redis's own time per call (INFO commandstats, µs) of the registry's heartbeat script and of
 * INLINE_HEARTBEAT_LUA, `calls` each over `dumps` records, alternating in rounds so both see the
 * same machine load. Uses its own key prefix; leaves the records behind in the bench's Redis.
 */
export async function heartbeatScriptCost(
  redis: Redis,
  registryFor: (prefix: string) => DumpRegistry,
  { dumps = 200, rounds = 20 } = {},
): Promise<{ registry: number; inline: number }> {
  const registry = registryFor(`hlsdump-script-cost-${process.pid}`);
  redis.defineCommand('benchInlineHeartbeat', { numberOfKeys: 2, lua: INLINE_HEARTBEAT_LUA });
  // defineCommand adds the method at run time; its type is not known to the client's.
  const inlineHeartbeat = (
    redis as unknown as { benchInlineHeartbeat(...args: (string | number)[]): Promise<unknown> }
  ).benchInlineHeartbeat.bind(redis);
  const runs: { dumpKey: string; runId: string }[] = [];
  for (let i = 0; i < dumps; i++) {
    const params = {
      vhost: 'default',
      app: 'app',
      stream: 'cost',
      outputStreamName: 'cost',
      id: `c${i}`,
      outputPath: `/nowhere/c${i}`,
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://origin.invalid/app/cost/',
    };
    const dumpKey = dumpKeyOf(params);
    const runId = newRunId();
    await registry.reserve({ ...params, dumpKey, runId, jobId: jobIdFor(dumpKey, runId) });
    await registry.claim(dumpKey, runId, 'cost-worker', 60_000);
    await registry.markRunning(dumpKey, runId, 'cost-worker');
    runs.push({ dumpKey, runId });
  }
  // A progress of three renditions, as a running dump reports it.
  const progress: ProgressSnapshot = {
    status: 'Running',
    renditions: [0, 1, 2].map((i) => ({
      chunklist: `chunklist_${i}.m3u8`,
      lastMsn: 1_000,
      segments: 900,
      bytes: 2e8,
      gaps: 0,
      lagSeconds: 1.5,
    })),
    filesWritten: 2_700,
    bytesWritten: 6e8,
    gaps: 0,
  };
  const usec = { registry: 0, inline: 0 };
  const calls = { registry: 0, inline: 0 };
  const evalsha = async () => {
    const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
    return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
  };
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['registry', 'inline'] as const) {
      const before = await evalsha();
      await Promise.all(
        runs.map(({ dumpKey, runId }) =>
          kind === 'registry'
            ? registry.heartbeat(dumpKey, runId, 'cost-worker', progress)
            : inlineHeartbeat(
                registry.keys.dump(dumpKey),
                registry.keys.workers(),
                runId,
                'cost-worker',
                Date.now(),
                JSON.stringify(progress),
              ),
        ),
      );
      const after = await evalsha();
      usec[kind] += after.usec - before.usec;
      calls[kind] += after.calls - before.calls;
    }
  }
  return { registry: usec.registry / calls.registry, inline: usec.inline / calls.inline };
}
