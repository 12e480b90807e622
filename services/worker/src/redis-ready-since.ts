import type { Redis } from 'ioredis';

/**
 * When `redis` last became ready: its first connect or its latest reconnect. A Redis failover
 * always breaks a connection (the master it used died or was demoted), so a connection ready
 * since T has seen no failover since T. Unknown (not ready now) counts as just now.
 */
export function trackReadySince(redis: Redis): () => number {
  let since = redis.status === 'ready' ? Date.now() : Number.POSITIVE_INFINITY;
  redis.on('ready', () => (since = Date.now()));
  redis.on('close', () => (since = Number.POSITIVE_INFINITY));
  return () => Math.min(since, Date.now());
}
