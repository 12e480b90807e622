import { hostname } from 'node:os';
import {
  DEFAULT_QUEUE_NAME,
  DEFAULT_RECORD_TTL_SECONDS,
  DEFAULT_REDIS_PREFIX,
  ConfigError,
  parseEnv,
} from '@hlsdump/contracts';
import { z } from 'zod';

/**
 * The worker's whole configuration: one schema over the environment, parsed once at start.
 * A bad value stops the process with a message naming the variable.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalMs = z.coerce.number().int().positive().optional();

const envSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
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
  /** Ours (SPEC §8): every dump's events are POSTed here too. */
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Signs events (X-Hlsdump-Signature); unsigned without it. */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  WEBHOOK_RETRY_BASE_MS: positiveInt(500),
  WEBHOOK_RETRY_MAX_MS: positiveInt(60_000),
});

export interface WorkerConfig {
  redisUrl: string;
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
  events: {
    webhookUrl?: string;
    secret?: string;
    requestTimeoutMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const e = parseEnv(envSchema, env);
  const limits: WorkerConfig['limits'] = {};
  if (e.DUMP_GONE_AFTER_MS !== undefined) limits.goneAfterMs = e.DUMP_GONE_AFTER_MS;
  if (e.DUMP_UNREACHABLE_AFTER_MS !== undefined)
    limits.unreachableAfterMs = e.DUMP_UNREACHABLE_AFTER_MS;
  return {
    redisUrl: e.REDIS_URL,
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
