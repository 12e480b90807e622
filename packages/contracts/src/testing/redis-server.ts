import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

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

const REDIS_SERVER_BINARIES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

export async function startTestRedis(): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, stop: async () => {} };
  const binary = REDIS_SERVER_BINARIES.find((candidate) => existsSync(candidate));
  if (!binary) throw new Error('No redis-server binary found and REDIS_URL is not set');
  // A port found free can be taken before redis binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await spawnRedis(binary, port);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** A name no other test file or run uses (queue names, key prefixes). */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function spawnRedis(binary: string, port: number): Promise<TestRedis> {
  return spawnOnce(binary, port).then((first) => {
    let current = first;
    const redis: TestRedis = {
      url: first.url,
      stop: () => current.stop(),
      process: first.process,
      outage: {
        kill: () => current.stop(),
        restart: async () => {
          current = await spawnOnce(binary, port);
          redis.process = current.process;
        },
      },
    };
    return redis;
  });
}

function spawnOnce(binary: string, port: number): Promise<TestRedis> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`redis-server on port ${port} did not start:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ url: `redis://127.0.0.1:${port}`, stop, process: child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
