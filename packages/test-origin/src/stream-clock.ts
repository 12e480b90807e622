// Media time for the whole origin. Runs `speed` times faster than the wall clock so tests
// can cover minutes of stream in seconds; waits resolve on timers aimed at the exact moment.

export interface StreamClock {
  readonly speed: number;
  /** Media seconds since the clock started. */
  now(): number;
  /** Real milliseconds until media time `t` (0 if already passed). */
  realMsUntil(t: number): number;
  /** Resolves true once now() >= t, or false if `signal` aborts first. */
  waitUntil(t: number, signal?: AbortSignal): Promise<boolean>;
  /** Same as waitUntil(now() + seconds). */
  waitFor(seconds: number, signal?: AbortSignal): Promise<boolean>;
}

export function createStreamClock(speed = 1): StreamClock {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`invalid clock speed ${speed}`);
  const origin = performance.now();
  const now = (): number => ((performance.now() - origin) / 1000) * speed;
  const realMsUntil = (t: number): number => Math.max(0, ((t - now()) * 1000) / speed);

  const waitUntil = (t: number, signal?: AbortSignal): Promise<boolean> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      // Timers have millisecond granularity and may fire a hair early: re-aim until reached.
      const aim = (): void => {
        const ms = realMsUntil(t);
        if (ms <= 0) {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
          return;
        }
        timer = setTimeout(aim, Math.max(1, Math.ceil(ms)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      aim();
    });

  return {
    speed,
    now,
    realMsUntil,
    waitUntil,
    waitFor: (seconds, signal) => waitUntil(now() + seconds, signal),
  };
}
