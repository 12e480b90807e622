import { z } from 'zod';

/** One Sentinel's address. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** A Redis reached through Sentinel: ask any of `sentinels` where the master named `name` is now. */
export interface RedisSentinelTarget {
  sentinels: SentinelAddress[];
  name: string;
}

/** Where a service's Redis is: a `redis://` / `rediss://` URL, or a Sentinel-monitored master. */
export type RedisTarget = string | RedisSentinelTarget;

/** Sentinel's own default port, taken when an entry of `REDIS_SENTINELS` names none. */
export const DEFAULT_SENTINEL_PORT = 26_379;

/**
 * Parses `REDIS_SENTINELS`: comma-separated `host:port` (IPv6 as `[::1]:26379`; the port may be
 * left out for 26379). Throws an Error naming the entry that is not an address.
 */
export function parseSentinelList(value: string): SentinelAddress[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('must name at least one host:port');
  return entries.map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(entry);
    const host = match?.[1] ?? match?.[2];
    const port = match?.[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[3]);
    if (!host || !Number.isInteger(port) || port < 1 || port > 65_535)
      throw new Error(`"${entry}" is not a host:port`);
    return { host, port };
  });
}

/**
 * The Redis variables every service reads, to spread into its environment schema; pair it with
 * `requireOneRedisTarget` and read the result with `redisTargetOf`.
 */
export const redisEnvShape = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_SENTINELS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseSentinelList(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  REDIS_SENTINEL_NAME: z.string().min(1, 'must not be empty').optional(),
};

interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: SentinelAddress[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
}

/** Exactly one way to reach Redis: `REDIS_URL`, or `REDIS_SENTINELS` with `REDIS_SENTINEL_NAME`. */
export function requireOneRedisTarget(env: RedisEnv, ctx: z.RefinementCtx): void {
  const problem = (path: string, message: string): void =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.REDIS_SENTINELS !== undefined) {
    if (env.REDIS_URL !== undefined)
      problem('REDIS_URL', 'set REDIS_URL or REDIS_SENTINELS, not both');
    if (env.REDIS_SENTINEL_NAME === undefined)
      problem(
        'REDIS_SENTINEL_NAME',
        'must name the master Sentinel monitors (REDIS_SENTINELS is set)',
      );
  } else if (env.REDIS_SENTINEL_NAME !== undefined) {
    problem('REDIS_SENTINELS', 'must list the Sentinels (REDIS_SENTINEL_NAME is set)');
  } else if (env.REDIS_URL === undefined) {
    problem('REDIS_URL', 'must be a redis:// URL, or set REDIS_SENTINELS and REDIS_SENTINEL_NAME');
  }
}

/** The target a parsed environment names (after `requireOneRedisTarget` passed). */
export function redisTargetOf(env: RedisEnv): RedisTarget {
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME !== undefined)
    return { sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME };
  if (env.REDIS_URL !== undefined) return env.REDIS_URL;
  throw new Error('no Redis target in a configuration that was validated');
}

/** For logs and banners: the URL without its password, or the Sentinel set and master name. */
export function describeRedisTarget(target: RedisTarget): string {
  if (typeof target === 'string') return target.replace(/\/\/([^@/]*:)[^@/]*@/, '//$1***@');
  const hosts = target.sentinels.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  );
  return `sentinel master "${target.name}" via ${hosts.join(',')}`;
}

/** The environment variables that hand `target` on to a child service. */
export function redisTargetEnv(target: RedisTarget): Record<string, string> {
  if (typeof target === 'string') return { REDIS_URL: target };
  return {
    REDIS_SENTINELS: target.sentinels
      .map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`))
      .join(','),
    REDIS_SENTINEL_NAME: target.name,
  };
}
