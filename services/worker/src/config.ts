import { hostname } from 'node:os';
import {
  DEFAULT_QUEUE_NAME,
  DEFAULT_RECORD_TTL_SECONDS,
  DEFAULT_REDIS_PREFIX,
  ConfigError,
  parseEnv,
  redisEnvShape,
  redisTargetOf,
  requireOneRedisTarget,
  type RedisTarget,
} from '@hlsdump/contracts';
import type { EventCrashFault } from './crash-fault.js';
import { z } from 'zod';

/**
 * The worker's whole configuration: one schema over the environment, parsed once at start.
 * A bad value stops the process with a message naming the variable.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalMs = z.coerce.number().int().positive().optional();

/**
 * Failover defaults: a SIGKILLed worker's dumps run again elsewhere within about
 * LOCK_DURATION_MS + STALLED_INTERVAL_MS (7 s), inside an LL-HLS origin's 20-30 s window.
 * Their Redis cost is worked out in docs/reliability.md.
 */
export const DEFAULT_HEARTBEAT_MS = 2_000;
export const DEFAULT_LOCK_DURATION_MS = 5_000;
export const DEFAULT_STALLED_INTERVAL_MS = 2_000;
export const DEFAULT_POISON_AFTER_CRASHES = 3;
export const DEFAULT_POISON_CLEAR_AFTER_MS = 10 * 60_000;

const envSchema = z.object({
  ...redisEnvShape,
  WORKER_ID: z.string().min(1).optional(),
  // Dumps are I/O-bound: one process holds many.
  WORKER_CONCURRENCY: positiveInt(50),
  QUEUE_NAME: z
    .string()
    .min(1)
    .refine((name) => !name.includes(':'), 'must not contain ":"')
    .default(DEFAULT_QUEUE_NAME),
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_REDIS_PREFIX),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Per dump: progress to the registry, and the proof its owner lives (well under LOCK_DURATION_MS). */
  HEARTBEAT_MS: positiveInt(DEFAULT_HEARTBEAT_MS),
  SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
  /** BullMQ's job lock, renewed every half of it: a dead worker's jobs stall after this long. */
  LOCK_DURATION_MS: positiveInt(DEFAULT_LOCK_DURATION_MS),
  /** How often BullMQ looks for dumps whose worker died; with LOCK_DURATION_MS, the failover time. */
  STALLED_INTERVAL_MS: positiveInt(DEFAULT_STALLED_INTERVAL_MS),
  /** A dump whose runs died with their worker this many times in a row ends in Error. */
  POISON_AFTER_CRASHES: positiveInt(DEFAULT_POISON_AFTER_CRASHES),
  /**
   * A run that stays Running this long clears the count: a long dump whose workers die now and
   * then, for reasons of their own, is not taken for a poison dump.
   */
  POISON_CLEAR_AFTER_MS: positiveInt(DEFAULT_POISON_CLEAR_AFTER_MS),
  /**
   * Test-only fault: this worker SIGKILLs itself once a dump of this output stream wrote a
   * segment. Never set in production.
   */
  TEST_CRASH_ON_OUTPUT_STREAM: z.string().min(1).optional(),
  /**
   * Test-only fault: this worker SIGKILLs itself the moment the registry recorded an event of
   * that type for a dump of that output stream (`<outputStreamName>/<type>`, comma-separated).
   * Never set in production.
   */
  TEST_CRASH_AFTER_EVENT: z
    .string()
    .regex(
      /^[^/,]+\/(running|gap|completed|error)(,[^/,]+\/(running|gap|completed|error))*$/,
      'expected <outputStreamName>/<running|gap|completed|error>, comma-separated',
    )
    .optional(),
  RECORD_TTL_SECONDS: positiveInt(DEFAULT_RECORD_TTL_SECONDS),
  /** Engine limits; the engine's defaults when unset. */
  DUMP_GONE_AFTER_MS: optionalMs,
  DUMP_UNREACHABLE_AFTER_MS: optionalMs,
  /** The worker's /metrics, /healthz and /readyz; 0: a free port (logged). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** How often the worker looks at its fair share of the dumps; 0: no balancing. */
  REBALANCE_INTERVAL_MS: z.coerce.number().int().min(0).default(500),
  /** Ours (docs/api.md#events): every dump's events are POSTed here too. */
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Signs events (X-Hlsdump-Signature); unsigned without it. */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  WEBHOOK_RETRY_BASE_MS: positiveInt(500),
  WEBHOOK_RETRY_MAX_MS: positiveInt(60_000),
});

export interface WorkerConfig {
  /** REDIS_URL, or the Sentinel-monitored master that REDIS_SENTINELS names in its place. */
  redisUrl: RedisTarget;
  workerId: string;
  concurrency: number;
  queueName: string;
  redisPrefix: string;
  logLevel: string;
  heartbeatMs: number;
  shutdownTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  poisonAfterCrashes: number;
  poisonClearAfterMs: number;
  /** Test-only: the output stream whose dumps make this worker kill itself. */
  testCrashOnOutputStream?: string;
  /** Test-only: the events after whose recording this worker kills itself. */
  testCrashAfterEvents?: EventCrashFault[];
  recordTtlSeconds: number;
  limits: { goneAfterMs?: number; unreachableAfterMs?: number };
  metricsPort: number;
  metricsHost: string;
  rebalanceIntervalMs: number;
  events: {
    webhookUrl?: string;
    secret?: string;
    requestTimeoutMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const e = parseEnv(envSchema.superRefine(requireOneRedisTarget), env);
  const limits: WorkerConfig['limits'] = {};
  if (e.DUMP_GONE_AFTER_MS !== undefined) limits.goneAfterMs = e.DUMP_GONE_AFTER_MS;
  if (e.DUMP_UNREACHABLE_AFTER_MS !== undefined)
    limits.unreachableAfterMs = e.DUMP_UNREACHABLE_AFTER_MS;
  return {
    redisUrl: redisTargetOf(e),
    workerId: e.WORKER_ID ?? `${hostname()}-${process.pid}`,
    concurrency: e.WORKER_CONCURRENCY,
    queueName: e.QUEUE_NAME,
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    heartbeatMs: e.HEARTBEAT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.LOCK_DURATION_MS,
    stalledIntervalMs: e.STALLED_INTERVAL_MS,
    poisonAfterCrashes: e.POISON_AFTER_CRASHES,
    poisonClearAfterMs: e.POISON_CLEAR_AFTER_MS,
    ...(e.TEST_CRASH_ON_OUTPUT_STREAM !== undefined && {
      testCrashOnOutputStream: e.TEST_CRASH_ON_OUTPUT_STREAM,
    }),
    ...(e.TEST_CRASH_AFTER_EVENT !== undefined && {
      testCrashAfterEvents: e.TEST_CRASH_AFTER_EVENT.split(',').map((fault) => {
        const [outputStreamName = '', type = ''] = fault.split('/');
        return { outputStreamName, type: type as EventCrashFault['type'] };
      }),
    }),
    recordTtlSeconds: e.RECORD_TTL_SECONDS,
    limits,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    rebalanceIntervalMs: e.REBALANCE_INTERVAL_MS,
    events: {
      ...(e.WEBHOOK_URL !== undefined && { webhookUrl: e.WEBHOOK_URL }),
      ...(e.WEBHOOK_SECRET !== undefined && { secret: e.WEBHOOK_SECRET }),
      requestTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
    },
  };
}

export { ConfigError };
