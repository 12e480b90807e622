import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-target.js';

/**
 * What a connection is for decides how it behaves while Redis is away:
 * - `producer` (gateway: queue + registry): no offline queue, so a Redis outage is a fast 503;
 * - `worker` (BullMQ worker + the worker's registry calls): waits for Redis forever
 *   (`maxRetriesPerRequest: null`, BullMQ requires it), dumps keep running meanwhile;
 * - `subscriber`: pub/sub only, on its own connection (a subscribed connection can do nothing else).
 *   `failFast` gives the gateway's subscriber the producer's fast failure.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

export interface RedisConnectionOptions {
  role: RedisRole;
  /** Subscriber only: fail commands at once while disconnected. */
  failFast?: boolean;
  connectionName?: string;
  extra?: RedisOptions;
}

export function createRedisConnection(target: RedisTarget, options: RedisConnectionOptions): Redis {
  const base: RedisOptions = {
    connectionName: options.connectionName ?? `hlsdump-${options.role}`,
    // Reconnect forever with a capped backoff: everything recovers by itself when Redis returns.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    worker: { maxRetriesPerRequest: null },
    subscriber: options.failFast
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null },
  };
  const settings = { ...base, ...byRole[options.role], ...options.extra };
  if (typeof target === 'string') return new Redis(target, settings);
  // Sentinel: every (re)connect asks the Sentinels where the master is now, so a failover is a
  // reconnect like any other. ioredis's failoverDetector is left off: a +switch-master arriving
  // while a reconnect is under way ends the connection for good. A master demoted under a live
  // connection answers writes with READONLY: reconnect (to the new master) and resend.
  return new Redis({
    ...settings,
    sentinels: target.sentinels,
    name: target.name,
    sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  });
}

/** Resolves once the connection is ready (commands without an offline queue fail before that). */
export async function waitForRedisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('Redis connection ended before it was ready'));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
    };
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}

/** Closes a connection politely, falling back to a hard disconnect when Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
