import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * A `redis-server` process of our own on a free loopback port, persistence off: for tests and
 * for `npm start`'s one-command setup. Never the shared 127.0.0.1:6379.
 */
export interface LocalRedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the server (SIGTERM: Redis exits at once with persistence off; SIGKILL: an outage). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LocalRedisServerOptions {
  /** A fixed port (e.g. to restart on the same one); default: a free port, retried a few times. */
  port?: number;
  /** Default: `findRedisServerBinary()`. */
  binary?: string;
  /** Where the server's output goes, once started (default: discarded). */
  log?: NodeJS.WritableStream;
  /** Working directory of the server (default: the caller's). */
  dir?: string;
  /**
   * Its own process group, so a terminal's Ctrl-C reaches only the parent, which then stops it
   * in order (after the services that use it).
   */
  detached?: boolean;
  readyTimeoutMs?: number;
}

export class RedisServerNotFoundError extends Error {
  readonly code = 'REDIS_SERVER_NOT_FOUND';
  constructor() {
    super('redis-server was not found on the PATH (Debian/Ubuntu: apt-get install redis-server)');
  }
}

const WELL_KNOWN = [
  '/usr/bin/redis-server',
  '/usr/local/bin/redis-server',
  '/opt/homebrew/bin/redis-server',
];

/** `REDIS_SERVER_BIN` when set (and only it), else `redis-server` on the PATH, else its usual places. */
export function findRedisServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.REDIS_SERVER_BIN
    ? [env.REDIS_SERVER_BIN]
    : [
        ...(env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, 'redis-server')),
        ...WELL_KNOWN,
      ];
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A TCP port free on `host` right now (it can be taken before it is used: callers retry). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startLocalRedisServer(
  options: LocalRedisServerOptions = {},
): Promise<LocalRedisServer> {
  const binary = options.binary ?? findRedisServerBinary();
  if (!binary) throw new RedisServerNotFoundError();
  if (options.port !== undefined) return spawnRedis(binary, options.port, options);
  // A port found free can be taken before redis binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await spawnRedis(binary, await findFreePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function spawnRedis(
  binary: string,
  port: number,
  options: LocalRedisServerOptions,
): Promise<LocalRedisServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.dir !== undefined && { cwd: options.dir }),
    ...(options.detached && { detached: true }),
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`redis-server on port ${port} did not start:\n${output}`));
    }, options.readyTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.removeListener('exit', onEarlyExit);
      if (options.log) {
        options.log.write(output);
        child.stdout?.pipe(options.log, { end: false });
        child.stderr?.pipe(options.log, { end: false });
      } else {
        // Drained, or a full pipe would block the server.
        child.stdout?.resume();
        child.stderr?.resume();
      }
      resolve({ url: `redis://127.0.0.1:${port}`, port, process: child, exited, stop });
    };
    const onEarlyExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onEarlyExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
