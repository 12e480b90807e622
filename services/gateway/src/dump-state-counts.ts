import { DUMP_STATES, type DumpState, type RegistryKeys } from '@hlsdump/contracts';
import type { Redis } from 'ioredis';

/**
 * How many dumps the registry holds in each state (ended ones until their record expires). Reads
 * one field per record, pipelined: a scrape costs one round trip whatever the number of dumps.
 */
export async function countDumpsByState(
  redis: Redis,
  keys: RegistryKeys,
): Promise<Record<DumpState, number>> {
  const counts = Object.fromEntries(DUMP_STATES.map((state) => [state, 0])) as Record<
    DumpState,
    number
  >;
  const dumpKeys = await redis.smembers(keys.dumps());
  if (dumpKeys.length === 0) return counts;
  const pipeline = redis.pipeline();
  for (const dumpKey of dumpKeys) pipeline.hget(keys.dump(dumpKey), 'state');
  for (const [error, state] of (await pipeline.exec()) ?? []) {
    if (!error && typeof state === 'string' && state in counts) counts[state as DumpState]++;
  }
  return counts;
}
