import { withTimeout, type DumpRegistry } from '@hlsdump/contracts';

/** Redis calls on the write path are skipped when it is away and never wait longer than this. */
const REGISTRY_CALL_TIMEOUT_MS = 1_000;

/**
 * A registry call on a dump's write path: undefined, at once, when Redis is not reachable, and
 * undefined when it fails or is slow. The dump keeps writing meanwhile: no other worker can take
 * it over through Redis either.
 */
export async function writePathCall<T>(
  registry: DumpRegistry,
  call: () => Promise<T>,
): Promise<T | undefined> {
  if (registry.redis.status !== 'ready') return undefined;
  try {
    return await withTimeout(call(), REGISTRY_CALL_TIMEOUT_MS, undefined);
  } catch {
    return undefined;
  }
}
