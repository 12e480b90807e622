import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe("npm start's Redis", () => {
  it('runs its own when no Redis variable is set (an empty one counts as unset)', () => {
    expect(loadConfig({}, '/w').redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: '' }, '/w').redisUrl).toBeUndefined();
  });

  it('takes a URL, or Sentinels with the master name in its place', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }, '/w').redisUrl).toBe('redis://r:6379');
    expect(
      loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'main' }, '/w')
        .redisUrl,
    ).toEqual({
      sentinels: [
        { host: 's1', port: 26_379 },
        { host: 's2', port: 26_380 },
      ],
      name: 'main',
    });
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_NAME/],
    [{ REDIS_SENTINEL_NAME: 'main' }, /REDIS_SENTINELS: must list/],
    [
      { REDIS_URL: 'redis://r', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'main' },
      /not both/,
    ],
  ])('refuses a half or double configuration, naming the variable: %j', (env, message) => {
    expect(() => loadConfig(env, '/w')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/w')).toThrow(message);
  });
});
