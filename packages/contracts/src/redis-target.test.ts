import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from './service-config.js';
import {
  describeRedisTarget,
  parseSentinelList,
  redisEnvShape,
  redisTargetEnv,
  redisTargetOf,
  requireOneRedisTarget,
} from './redis-target.js';

const schema = z.object(redisEnvShape).superRefine(requireOneRedisTarget);
const load = (env: Record<string, string>) => redisTargetOf(parseEnv(schema, env));

describe('REDIS_SENTINELS', () => {
  it('parses host:port lists, IPv6 in brackets, and the default Sentinel port', () => {
    expect(parseSentinelList(' s1:26380, [::1]:26381 ,s3')).toEqual([
      { host: 's1', port: 26_380 },
      { host: '::1', port: 26_381 },
      { host: 's3', port: 26_379 },
    ]);
  });

  it.each(['', ' , ', 'host:port', 'host:0', 'host:70000', 'a b:1', '[::1'])(
    'refuses %j with the entry named',
    (value) => {
      expect(() => parseSentinelList(value)).toThrow(/host:port/);
    },
  );

  it('stands in for REDIS_URL with REDIS_SENTINEL_NAME', () => {
    expect(
      load({ REDIS_SENTINELS: '127.0.0.1:1,127.0.0.1:2', REDIS_SENTINEL_NAME: 'main' }),
    ).toEqual({
      sentinels: [
        { host: '127.0.0.1', port: 1 },
        { host: '127.0.0.1', port: 2 },
      ],
      name: 'main',
    });
    expect(load({ REDIS_URL: 'redis://r:6379' })).toBe('redis://r:6379');
  });

  it.each([
    [{}, /REDIS_URL: must be a redis:\/\/ URL, or set REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: 's:1' }, /REDIS_SENTINEL_NAME: must name the master/],
    [{ REDIS_SENTINEL_NAME: 'main', REDIS_URL: 'redis://r' }, /REDIS_SENTINELS: must list/],
    [
      { REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'main', REDIS_URL: 'redis://r' },
      /REDIS_URL: set REDIS_URL or REDIS_SENTINELS, not both/,
    ],
    [{ REDIS_SENTINELS: 's:x', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: "s:x" is not/],
  ])('a configuration error names the variable: %j', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('round-trips through the environment handed to child services, and hides passwords in logs', () => {
    const target = { sentinels: [{ host: '::1', port: 5 }], name: 'm' };
    expect(load(redisTargetEnv(target))).toEqual(target);
    expect(describeRedisTarget(target)).toBe('sentinel master "m" via [::1]:5');
    expect(describeRedisTarget('redis://user:secret@h:6379/0')).toBe('redis://user:***@h:6379/0');
  });
});
