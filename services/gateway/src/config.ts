import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_QUEUE_NAME, DEFAULT_REDIS_PREFIX } from '@hlsdump/contracts';
import {
  ConfigError,
  parseEnv,
  redisEnvShape,
  redisTargetOf,
  requireOneRedisTarget,
  type RedisTarget,
} from '@hlsdump/contracts';
import { z } from 'zod';
import { Origins } from './origins.js';

/**
 * The gateway's whole configuration: one schema over the environment, parsed once at start.
 * A bad value stops the process with a message naming the variable.
 */
const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  ...redisEnvShape,
  ACCESS_TOKEN: z.string().min(1, 'must not be empty'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  HOST: z.string().min(1).default('0.0.0.0'),
  OUTPUT_ROOTS: z
    .string()
    .transform((value) =>
      value
        .split(/[,:]/)
        .map((root) => root.trim())
        .filter(Boolean),
    )
    .refine((roots) => roots.length > 0, 'must name at least one directory')
    .refine(
      (roots) => roots.every((root) => isAbsolute(root)),
      'every root must be an absolute path',
    )
    .transform((roots) => roots.map((root) => resolve(root))),
  HLSDUMP_ORIGINS: z.string().min(1, 'must name the origins JSON file'),
  START_TIMEOUT_MS: ms(10_000),
  STOP_TIMEOUT_MS: ms(10_000),
  ORIGIN_TIMEOUT_MS: ms(5_000),
  SHUTDOWN_TIMEOUT_MS: ms(10_000),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  QUEUE_NAME: z
    .string()
    .min(1)
    .refine((name) => !name.includes(':'), 'must not contain ":"')
    .default(DEFAULT_QUEUE_NAME),
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_REDIS_PREFIX),
  /** Dumps one worker is meant to hold: `/scaling`'s divisor (the worker's default WORKER_CONCURRENCY). */
  WORKER_CAPACITY: z.coerce.number().int().positive().default(50),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Ours: hosts (host or host:port) a start's callbackUrl may name; empty refuses callbackUrl. */
  CALLBACK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine(
      (hosts) =>
        hosts.every((host) => /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(host)),
      'must be a comma-separated list of host or host:port',
    ),
});

export interface GatewayConfig {
  /** REDIS_URL, or the Sentinel-monitored master that REDIS_SENTINELS names in its place. */
  redisUrl: RedisTarget;
  accessToken: string;
  port: number;
  host: string;
  outputRoots: string[];
  origins: Origins;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  originTimeoutMs: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  queueName: string;
  redisPrefix: string;
  logLevel: string;
  workerCapacity: number;
  callbackAllowedHosts: string[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = parseEnv(envSchema.superRefine(requireOneRedisTarget), env);
  let origins: Origins;
  try {
    origins = Origins.fromFile(e.HLSDUMP_ORIGINS);
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration:\n  HLSDUMP_ORIGINS: ${e.HLSDUMP_ORIGINS}: ${(error as Error).message}`,
    );
  }
  return {
    redisUrl: redisTargetOf(e),
    accessToken: e.ACCESS_TOKEN,
    port: e.PORT,
    host: e.HOST,
    outputRoots: e.OUTPUT_ROOTS,
    origins,
    startTimeoutMs: e.START_TIMEOUT_MS,
    stopTimeoutMs: e.STOP_TIMEOUT_MS,
    originTimeoutMs: e.ORIGIN_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    queueName: e.QUEUE_NAME,
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    workerCapacity: e.WORKER_CAPACITY,
    callbackAllowedHosts: e.CALLBACK_ALLOWED_HOSTS,
  };
}

export { ConfigError };
