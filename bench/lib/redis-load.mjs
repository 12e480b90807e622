// The Redis load of keeping dumps alive (registry heartbeats, BullMQ lock renewals and stalled-job
// checks), computed from the settings, and Redis's own count of what it ran (INFO commandstats).

/**
 * Commands per second in steady state for `dumps` running on `workers` worker processes.
 * - Registry heartbeat, per dump every heartbeatMs: one script (hlsdumpHeartbeat) running
 *   5 HGET, 2 HSET (heartbeatAt, progress), 1 ZADD; plus one ZADD per worker (workerAlive).
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
}) {
  const beats = dumps / (heartbeatMs / 1_000);
  const workerBeats = workers / (heartbeatMs / 1_000);
  const renewTicks = workers / (lockDurationMs / 4 / 1_000);
  const renewals = dumps / (lockDurationMs / 4 / 1_000);
  const stalledCalls = workers / (stalledIntervalMs / 1_000);
  const stalledRuns = 1 / (stalledIntervalMs / 1_000);
  const saves = dumps * checkpointsPerDumpPerSecond;
  const byCommand = {
    evalsha: beats + renewTicks + stalledCalls + saves,
    hget: 5 * beats + 3 * saves,
    hset: 2 * beats + saves,
    zadd: beats + workerBeats,
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
export function measuredRates(commandstats, seconds) {
  const rates = {};
  const usecPerSecond = {};
  for (const line of commandstats.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (!match) continue;
    const [, name, calls, usec] = match;
    if (name.startsWith('config') || name === 'info') continue;
    rates[name] = Number(calls) / seconds;
    usecPerSecond[name] = Number(usec) / seconds;
  }
  return { rates, usecPerSecond };
}
