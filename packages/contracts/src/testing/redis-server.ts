import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  findRedisServerBinary,
  startLocalRedisServer,
  type LocalRedisServer,
} from '../local-redis-server.js';

/**
 * A Redis for one test file: `REDIS_URL` when the environment gives one, otherwise an ephemeral
 * `redis-server` on a free port with persistence off, stopped by `stop()`. Never the shared
 * 127.0.0.1:6379, whose background loops would outlive the tests.
 */
export interface TestRedis {
  url: string;
  /** Kills the ephemeral server (a no-op for an external REDIS_URL). */
  stop(): Promise<void>;
  /** The server process, when ephemeral: tests can kill it to simulate an outage. */
  process?: ChildProcess;
  /** Ephemeral only: kills the server (an outage) and `restart()` brings it back on the same port. */
  outage?: { kill(): Promise<void>; restart(): Promise<void> };
}

export async function startTestRedis(): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, stop: async () => {} };
  const binary = findRedisServerBinary();
  if (!binary) throw new Error('No redis-server binary found and REDIS_URL is not set');
  let current: LocalRedisServer = await startLocalRedisServer({ binary });
  const redis: TestRedis = {
    url: current.url,
    stop: () => current.stop('SIGKILL'),
    process: current.process,
    outage: {
      kill: () => current.stop('SIGKILL'),
      restart: async () => {
        current = await startLocalRedisServer({ binary, port: current.port });
        redis.process = current.process;
      },
    },
  };
  return redis;
}

/** A name no other test file or run uses (queue names, key prefixes). */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}
