import { afterEach, describe, expect, it, vi } from 'vitest';
import { StartsInProgress } from './starts-in-progress.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Whether the promise has settled, after the microtasks queued so far ran. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await Promise.resolve();
  await Promise.resolve();
  return settled;
}

describe('StartsInProgress', () => {
  it('with no start in progress a dump records at once', async () => {
    const starts = new StartsInProgress(1_000);
    expect(await settledYet(starts.settled(new AbortController().signal))).toBe(true);
    starts.begin()();
    expect(await settledYet(starts.settled(new AbortController().signal))).toBe(true);
  });

  it('waits for the last start in progress to end, each end counted once', async () => {
    vi.useFakeTimers();
    const starts = new StartsInProgress(1_000);
    const endFirst = starts.begin();
    const endSecond = starts.begin();
    const waiting = starts.settled(new AbortController().signal);
    endFirst();
    endFirst(); // a second call of one end does not end another start
    expect(await settledYet(waiting)).toBe(false);
    endSecond();
    expect(await settledYet(waiting)).toBe(true);
  });

  it('waits no longer than its limit while starts keep coming', async () => {
    vi.useFakeTimers();
    const starts = new StartsInProgress(1_000);
    starts.begin();
    const waiting = starts.settled(new AbortController().signal);
    vi.advanceTimersByTime(999);
    starts.begin();
    expect(await settledYet(waiting)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await settledYet(waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an abort (the dump stopped) ends the wait at once, and an aborted signal never waits', async () => {
    vi.useFakeTimers();
    const starts = new StartsInProgress(1_000);
    starts.begin();
    const stop = new AbortController();
    const waiting = starts.settled(stop.signal);
    stop.abort();
    expect(await settledYet(waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(await settledYet(starts.settled(stop.signal))).toBe(true);
  });
});
