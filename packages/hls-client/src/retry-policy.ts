/**
 * Retry policy as plain data, so every caller (origin client, playlist loader) backs off the
 * same way and tests can shrink the delays without touching any loop.
 */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 means a single attempt. */
  maxRetries: number;
  /** Base delay before the first retry. */
  retryDelayMs: number;
  /** Upper bound for any delay, including a server's Retry-After. */
  maxRetryDelayMs: number;
  backoff: 'exponential' | 'linear';
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 4,
  retryDelayMs: 250,
  maxRetryDelayMs: 4_000,
  backoff: 'exponential',
});

/**
 * Delay before retry number `attempt` (0 = the first retry).
 *
 * The backoff is capped, then jittered into [cap/2, cap] ("equal jitter") so that many
 * recorders hitting one recovering origin do not retry in lockstep, yet never retry
 * sooner than half the nominal delay. A server's Retry-After wins when it asks for longer,
 * but is capped as well: a live recorder cannot afford to sleep for minutes.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(0, Math.floor(attempt));
  const nominal =
    policy.backoff === 'linear' ? policy.retryDelayMs * (n + 1) : policy.retryDelayMs * 2 ** n;
  const capped = Math.min(nominal, policy.maxRetryDelayMs);
  const jittered = capped / 2 + (capped / 2) * clampUnit(random());
  const wanted =
    retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > jittered
      ? retryAfterMs
      : jittered;
  return Math.round(Math.min(wanted, policy.maxRetryDelayMs));
}

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}
