import type { ChildProcess } from 'node:child_process';
import {
  findRedisServerBinary,
  startLocalRedisServer,
  type LocalRedisServer,
} from '@hlsdump/contracts';

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
  if (!binary) return startRedisContainer();
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

/**
 * Without a redis-server binary, a pinned Redis container where a Docker engine answers
 * (testcontainers). Loaded only then, so machines without Docker never load it. No outage
 * controls: the failover tests need the binary.
 */
async function startRedisContainer(): Promise<TestRedis> {
  let container;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    container = await new GenericContainer(REDIS_IMAGE)
      .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
  } catch (error) {
    throw new Error(
      `No redis-server binary, REDIS_URL unset, and no Redis container could be started (${(error as Error).message}): apt-get install redis-server`,
    );
  }
  const started = container;
  return {
    url: `redis://${started.getHost()}:${started.getMappedPort(6379)}`,
    stop: async () => {
      await started.stop();
    },
  };
}

/** The same pinned tag as docker-compose.yml. */
const REDIS_IMAGE = 'redis:7.4.2-alpine';
