import { describe, it, expect } from 'vitest';
import { createStreamClock } from './stream-clock.js';

describe('StreamClock', () => {
  it('runs speed times faster than real time and wakes exactly when media time is reached', async () => {
    const clock = createStreamClock(40);
    const realStart = performance.now();
    const target = clock.now() + 2; // 2 media seconds = 50 real ms
    expect(await clock.waitUntil(target)).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(target);
    const realMs = performance.now() - realStart;
    expect(realMs).toBeGreaterThanOrEqual(49);
    expect(realMs).toBeLessThan(1000);
  });

  it('resolves at once for a past time and false when aborted', async () => {
    const clock = createStreamClock(1);
    expect(await clock.waitUntil(-1)).toBe(true);
    const abort = new AbortController();
    const waiting = clock.waitFor(3600, abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
    expect(() => createStreamClock(0)).toThrow();
  });
});
