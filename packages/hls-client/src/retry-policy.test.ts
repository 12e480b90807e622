import { describe, expect, it } from 'vitest';
import {
  OriginHttpError,
  OriginNetworkError,
  OriginTimeoutError,
  StreamGoneError,
  isRetryable,
} from './origin-errors.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfterMs, retryDelayMs } from './retry-policy.js';
import type { RetryPolicy } from './retry-policy.js';

const policy: RetryPolicy = {
  maxRetries: 10,
  retryDelayMs: 100,
  maxRetryDelayMs: 1_000,
  backoff: 'exponential',
};
const top = (): number => 1;
const bottom = (): number => 0;

describe('retryDelayMs', () => {
  it('doubles per attempt with exponential backoff', () => {
    expect([0, 1, 2, 3].map((a) => retryDelayMs(policy, a, undefined, top))).toEqual([
      100, 200, 400, 800,
    ]);
  });

  it('grows by the base with linear backoff', () => {
    const linear: RetryPolicy = { ...policy, backoff: 'linear' };
    expect([0, 1, 2].map((a) => retryDelayMs(linear, a, undefined, top))).toEqual([100, 200, 300]);
  });

  it('never exceeds the cap', () => {
    expect(retryDelayMs(policy, 4, undefined, top)).toBe(1_000);
    expect(retryDelayMs(policy, 60, undefined, top)).toBe(1_000);
  });

  it('jitters into [half, full] of the capped delay', () => {
    expect(retryDelayMs(policy, 2, undefined, bottom)).toBe(200);
    expect(retryDelayMs(policy, 2, undefined, () => 0.5)).toBe(300);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(policy, 2);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it('honours a longer Retry-After, capped too', () => {
    expect(retryDelayMs(policy, 0, 700, top)).toBe(700);
    expect(retryDelayMs(policy, 0, 30_000, top)).toBe(1_000);
    // a shorter Retry-After does not shorten our own backoff
    expect(retryDelayMs(policy, 3, 10, top)).toBe(800);
  });

  it('has sane defaults', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxRetries: 4,
      retryDelayMs: 250,
      maxRetryDelayMs: 4_000,
      backoff: 'exponential',
    });
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfterMs('2')).toBe(2_000);
    expect(parseRetryAfterMs(['3'])).toBe(3_000);
    const now = Date.parse('2024-05-01T10:00:00Z');
    expect(parseRetryAfterMs('Wed, 01 May 2024 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
    expect(parseRetryAfterMs('soon')).toBeUndefined();
  });
});

describe('isRetryable', () => {
  it('retries network trouble, timeouts, 5xx and 429', () => {
    expect(isRetryable(new OriginNetworkError('u', new Error('reset')))).toBe(true);
    expect(isRetryable(new OriginTimeoutError('u', new Error('slow')))).toBe(true);
    for (const status of [500, 502, 503, 504, 429])
      expect(isRetryable(new OriginHttpError(status, 'u'))).toBe(true);
  });

  it('never retries other 4xx or unknown errors', () => {
    for (const status of [400, 401, 403, 404, 410])
      expect(isRetryable(new OriginHttpError(status, 'u'))).toBe(false);
    expect(isRetryable(new StreamGoneError('u', 1))).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
    expect(isRetryable('nope')).toBe(false);
  });

  it('gives every error its stable code', () => {
    expect(new OriginHttpError(503, 'u').code).toBe('ORIGIN_HTTP_STATUS');
    expect(new OriginNetworkError('u', null).code).toBe('ORIGIN_NETWORK');
    expect(new OriginTimeoutError('u', null).code).toBe('ORIGIN_TIMEOUT');
    expect(new StreamGoneError('u', 1).code).toBe('STREAM_GONE');
  });
});
