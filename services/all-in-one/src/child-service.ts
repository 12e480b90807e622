import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** A service (gateway, worker) as a child process whose output goes to a log file. */
export interface ChildService {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  /** Resolves with the first output line matching `pattern`; rejects if the child exits first. */
  waitForLine(pattern: RegExp): Promise<RegExpMatchArray>;
  /** The last lines of its output, for an error message. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs: number): Promise<ExitInfo>;
}

const KEPT_LINES = 200;

export function spawnService(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  nodeFlags: readonly string[] = [],
): ChildService {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...nodeFlags, entry], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop it in order.
    detached: true,
  });
  const recent: string[] = [];
  const lineWatchers = new Set<(line: string) => void>();
  const exitWatchers = new Set<() => void>();
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let partial = '';
  const onData = (chunk: Buffer): void => {
    log.write(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      recent.push(line);
      for (const watch of lineWatchers) watch(line);
    }
    if (recent.length > KEPT_LINES) recent.splice(0, recent.length - KEPT_LINES);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const watch of exitWatchers) watch();
      log.end(() => resolve({ code, signal }));
    });
  });
  return {
    name,
    process: child,
    logFile,
    exited,
    waitForLine: (pattern) =>
      new Promise((resolve, reject) => {
        const done = (): void => {
          lineWatchers.delete(onLine);
          exitWatchers.delete(onExit);
        };
        const onLine = (line: string): void => {
          const match = line.match(pattern);
          if (!match) return;
          done();
          resolve(match);
        };
        const onExit = (): void => {
          done();
          reject(
            new Error(
              `${name} exited before printing ${pattern}:\n${recent.slice(-30).join('\n')}`,
            ),
          );
        };
        for (const line of recent) {
          const match = line.match(pattern);
          if (match) return resolve(match);
        }
        if (!running()) return onExit();
        lineWatchers.add(onLine);
        exitWatchers.add(onExit);
      }),
    tail: (lines = 30) => recent.slice(-lines).join('\n'),
    async stop(graceMs) {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await once(child, 'exit').catch(() => {});
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
