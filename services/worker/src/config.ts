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
import { z } from 'zod';

/**
 * The worker's whole configuration: one schema over the environment, parsed once at start.
 * A bad value stops the process with a message naming the variable.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalMs = z.coerce.number().int().positive().optional();

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
  HEARTBEAT_MS: positiveInt(5_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
  /** BullMQ's job lock: a dead worker's jobs stall after this long. */
  LOCK_DURATION_MS: positiveInt(30_000),
  /** How often BullMQ looks for dumps whose worker died; with LOCK_DURATION_MS, the failover time. */
  STALLED_INTERVAL_MS: positiveInt(30_000),
  RECORD_TTL_SECONDS: positiveInt(DEFAULT_RECORD_TTL_SECONDS),
  /** Engine limits; the engine's defaults when unset. */
  DUMP_GONE_AFTER_MS: optionalMs,
  DUMP_UNREACHABLE_AFTER_MS: optionalMs,
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
  recordTtlSeconds: number;
  limits: { goneAfterMs?: number; unreachableAfterMs?: number };
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
    recordTtlSeconds: e.RECORD_TTL_SECONDS,
    limits,
  };
}

export { ConfigError };
