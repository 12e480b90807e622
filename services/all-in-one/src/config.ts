import {
  ConfigError,
  parseEnv,
  redisEnvShape,
  redisTargetOf,
  requireOneRedisTarget,
  type RedisTarget,
} from '@hlsdump/contracts';
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * `npm start`'s configuration: one schema over the environment, parsed once. Everything has a
 * default, so the bare command works; what it passes on to the gateway and the worker
 * (START_TIMEOUT_MS, WORKER_CONCURRENCY, ...) they validate themselves.
 */
const envSchema = z.object({
  /** REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME; none: a redis-server of our own on a free port. */
  ...redisEnvShape,
  /** OME's API port. 0: any free port (tests). */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  /** Loopback by default: the demo prints its access token. */
  HOST: z.string().min(1).default('127.0.0.1'),
  ACCESS_TOKEN: z.string().min(1, 'must not be empty').optional(),
  /** Allowed roots for outputPath and infoFile; default `./dumps`. Relative paths are taken from the cwd. */
  OUTPUT_ROOTS: z.string().min(1).optional(),
  /** Where the services' logs go; default a fresh directory under the OS temp dir. */
  HLSDUMP_LOG_DIR: z.string().min(1).optional(),
  /** The demo origin's clock: media seconds per real second (1 = real time). */
  HLSDUMP_DEMO_SPEED: z.coerce.number().positive().max(64).default(1),
  /** The demo origin's port; 0 = any free port. */
  HLSDUMP_DEMO_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
});

export interface AllInOneConfig {
  /** Unset: start a redis-server of our own. */
  redisUrl?: RedisTarget;
  port: number;
  host: string;
  accessToken: string;
  /** Absolute; the first is where the printed example writes. */
  outputRoots: string[];
  logDir?: string;
  demoSpeed: number;
  demoPort: number;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): AllInOneConfig {
  // An empty variable (`REDIS_URL= npm start`) means unset: the default applies.
  const e = parseEnv(
    envSchema.superRefine((redisEnv, ctx) => {
      const given = [redisEnv.REDIS_URL, redisEnv.REDIS_SENTINELS, redisEnv.REDIS_SENTINEL_NAME];
      if (given.some((value) => value !== undefined)) requireOneRedisTarget(redisEnv, ctx);
    }),
    Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')),
  );
  const roots = (e.OUTPUT_ROOTS ?? 'dumps')
    .split(/[,:]/)
    .map((root) => root.trim())
    .filter(Boolean)
    .map((root) => (isAbsolute(root) ? resolve(root) : resolve(cwd, root)));
  if (roots.length === 0)
    throw new ConfigError(
      'Invalid configuration:\n  OUTPUT_ROOTS: must name at least one directory',
    );
  return {
    ...((e.REDIS_URL !== undefined || e.REDIS_SENTINELS !== undefined) && {
      redisUrl: redisTargetOf(e),
    }),
    port: e.PORT,
    host: e.HOST,
    // OME's tokens are usually user:password.
    accessToken: e.ACCESS_TOKEN ?? `hlsdump:${randomBytes(12).toString('hex')}`,
    outputRoots: roots,
    ...(e.HLSDUMP_LOG_DIR !== undefined && { logDir: resolve(cwd, e.HLSDUMP_LOG_DIR) }),
    demoSpeed: e.HLSDUMP_DEMO_SPEED,
    demoPort: e.HLSDUMP_DEMO_PORT,
  };
}

export { ConfigError };
