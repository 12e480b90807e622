import type { ChildProcess } from 'node:child_process';
import { RedisServerNotFoundError } from '@hlsdump/contracts';
import { startAllInOne } from './all-in-one.js';
import { loadConfigOrExit } from '@hlsdump/contracts';
import { loadConfig } from './config.js';
import { instructions } from './instructions.js';

/**
 * `npm start`: the whole cluster in one command, for trying hlsdump out. Ctrl-C / SIGTERM stops
 * it (dumps first, then gateway and worker, the origin, Redis).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(loadConfig);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const logger = {
    info: (obj: object, msg?: string) => say(`${msg ?? ''} ${JSON.stringify(obj)}`),
    warn: (obj: object, msg?: string) =>
      process.stderr.write(`${msg ?? ''} ${JSON.stringify(obj)}\n`),
    error: (obj: object, msg?: string) =>
      process.stderr.write(`${msg ?? ''} ${JSON.stringify(obj)}\n`),
  };
  // Whatever happens, no child outlives us (they have their own process groups).
  const processes: ChildProcess[] = [];
  process.on('exit', () => {
    for (const child of processes)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let running;
  try {
    running = await startAllInOne(config, {
      say,
      logger,
      // Signals are ours from the start: Ctrl-C during start-up stops what has started.
      onShutdown: (shutdown) => shutdown.installSignalHandlers(),
      onProcess: (child) => processes.push(child),
    });
  } catch (error) {
    if (error instanceof RedisServerNotFoundError) {
      process.stderr.write(
        'redis-server was not found, and REDIS_URL is not set.\n' +
          'npm start runs a Redis of its own when REDIS_URL is unset: install redis-server\n' +
          '  (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
          'or point REDIS_URL at a running Redis (REDIS_URL=redis://127.0.0.1:6379 npm start).\n',
      );
      process.exit(1);
    }
    process.stderr.write(`hlsdump could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const { shutdown } = running;
  say(instructions(running.setup));
  const died = await running.childDied;
  process.stderr.write(
    `the ${died.name} exited unexpectedly; stopping everything. Its last lines (${died.logFile}):\n${died.tail()}\n`,
  );
  await shutdown.close();
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`hlsdump failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
