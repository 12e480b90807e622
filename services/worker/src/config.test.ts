import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const REDIS_URL = 'redis://127.0.0.1:1';

describe('worker configuration', () => {
  it('ships failover defaults of a few seconds and ends a poison dump after 3 crashes', () => {
    const config = loadConfig({ REDIS_URL });
    expect(config).toMatchObject({
      heartbeatMs: 2_000,
      lockDurationMs: 5_000,
      stalledIntervalMs: 2_000,
      poisonAfterCrashes: 3,
      poisonClearAfterMs: 600_000,
    });
    expect(config.testCrashOnOutputStream).toBeUndefined();
    // A live owner's heartbeat never looks stale to a claim (stale after LOCK_DURATION_MS).
    expect(config.heartbeatMs * 2).toBeLessThan(config.lockDurationMs);
  });

  it('takes POISON_AFTER_CRASHES and the test-only crash fault from the environment', () => {
    const config = loadConfig({
      REDIS_URL,
      POISON_AFTER_CRASHES: '5',
      TEST_CRASH_ON_OUTPUT_STREAM: 'poison',
    });
    expect(config.poisonAfterCrashes).toBe(5);
    expect(config.testCrashOnOutputStream).toBe('poison');
  });

  it.each(['0', '-1', '2.5', 'three'])('refuses POISON_AFTER_CRASHES=%s, naming it', (value) => {
    expect(() => loadConfig({ REDIS_URL, POISON_AFTER_CRASHES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL, POISON_AFTER_CRASHES: value })).toThrow(
      /POISON_AFTER_CRASHES/,
    );
  });

  it('takes the test-only event crash faults as <outputStreamName>/<type> pairs', () => {
    expect(loadConfig({ REDIS_URL }).testCrashAfterEvents).toBeUndefined();
    expect(
      loadConfig({ REDIS_URL, TEST_CRASH_AFTER_EVENT: 'a/running,b_o/gap' }).testCrashAfterEvents,
    ).toEqual([
      { outputStreamName: 'a', type: 'running' },
      { outputStreamName: 'b_o', type: 'gap' },
    ]);
  });

  it.each(['a', 'a/stopped', '/gap', 'a/gap,'])(
    'refuses TEST_CRASH_AFTER_EVENT=%s, naming it',
    (value) => {
      expect(() => loadConfig({ REDIS_URL, TEST_CRASH_AFTER_EVENT: value })).toThrow(
        /TEST_CRASH_AFTER_EVENT/,
      );
    },
  );
});
