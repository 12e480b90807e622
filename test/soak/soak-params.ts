// The soak's parameters, read once from the environment (SOAK_*; bench/README.md, "Soak"), and
// the figures derived from them.
import { join } from 'node:path';
import { REPO_ROOT } from '../support/spawn-node.js';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
};

export const SEGMENT_S = 4; // the test origin: 1-second parts, 4 parts per segment
export const P = {
  mediaHours: num('SOAK_MEDIA_HOURS', 24),
  speed: num('SOAK_SPEED', 30),
  dumps: Math.round(num('SOAK_DUMPS', 3)),
  workers: Math.round(num('SOAK_WORKERS', 3)),
  killEveryS: num('SOAK_KILL_EVERY_S', 180),
  /** Failover time the origin window must cover twice over (the harness's: ~5 s). */
  failoverBudgetS: num('SOAK_FAILOVER_BUDGET_S', 10),
  sampleS: num('SOAK_SAMPLE_S', 3),
  /** Check the bytes of every Nth segment (1 = all); segments around each kill always. */
  bytesEvery: Math.round(num('SOAK_BYTES_EVERY', 1)),
  seed: Math.round(num('SOAK_SEED', Math.floor(Math.random() * 2 ** 31) + 1)),
  windowSegments: 0,
  /**
   * When the killed worker comes back: 'after-takeover' (default: once its dumps run elsewhere)
   * or 'immediate' (at once, under the same WORKER_ID, before the lock expires: a container
   * restarted in place, whose id is the same hostname and pid).
   */
  restart: (process.env.SOAK_RESTART ?? 'after-takeover') as 'after-takeover' | 'immediate',
  label: process.env.SOAK_LABEL ?? '',
  keep: process.env.SOAK_KEEP === '1',
  results: process.env.SOAK_RESULTS ?? join(REPO_ROOT, 'bench/results/soak.md'),
};
P.windowSegments = Math.round(
  num('SOAK_WINDOW_SEGMENTS', Math.ceil(((P.failoverBudgetS * P.speed) / SEGMENT_S) * 2)),
);
if (P.restart !== 'after-takeover' && P.restart !== 'immediate')
  throw new Error(`SOAK_RESTART must be after-takeover or immediate, got ${String(P.restart)}`);
export const MEDIA_S = P.mediaHours * 3600;
export const PLANNED_REAL_S = MEDIA_S / P.speed;
/** The kill loop ends here whatever happens; verification has its own budget after it. */
export const LOOP_DEADLINE_S = PLANNED_REAL_S * 1.5 + 300;
export const TEST_TIMEOUT_MS = (LOOP_DEADLINE_S + 1800 + (MEDIA_S / 3600) * P.dumps * 20) * 1000;
/**
 * The heap probe (test/support/heap-probe.ts) preloaded into the workers (SOAK_HEAP_PROBE=0: not):
 * on SIGUSR2 a full GC, then process.memoryUsage() to a file, so the timeline shows live heap
 * beside RSS. The workers' code is untouched.
 */
export const USE_HEAP_PROBE = process.env.SOAK_HEAP_PROBE !== '0';
/** Rows of the memory timeline, spread evenly over the simulated time. */
export const TIMELINE_ROWS = 12;
/** The storage's temporary file for an atomic write: `.<name>.<12 hex>.tmp`. */
export const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;
export const WORKER_ENV = {
  // The harness's own values, spelled out: failover in about LOCK + STALLED.
  HEARTBEAT_MS: '300',
  LOCK_DURATION_MS: '4000',
  STALLED_INTERVAL_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '8000',
};
