import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNode, type Spawned } from './spawn-node.js';

export interface ServiceProcessOptions {
  /** Node's own flags for every incarnation (a profiler, a preloaded probe). */
  nodeArgs?: string[];
  /** Also appends every incarnation's output to `<logDir>/<name>.log` as it comes (long runs). */
  logDir?: string;
}

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** One line of a service's pino JSON log (non-JSON lines are skipped). */
export type LogLine = { msg?: string; level?: number } & Record<string, unknown>;

/**
 * A built service (`dist/main.js`) run as its own OS process that a test can signal, kill and
 * restart with the same environment. Output of every incarnation is kept for failure messages.
 */
export class ServiceProcess {
  private spawned: Spawned;
  private readonly previousOutput: string[] = [];
  private incarnation = 1;

  readonly name: string;
  private readonly entry: string;
  private env: Record<string, string>;
  private readonly options: ServiceProcessOptions;

  // Plain fields, not parameter properties: Node's type stripping runs this file (the bench).
  constructor(
    name: string,
    entry: string,
    env: Record<string, string>,
    options: ServiceProcessOptions = {},
  ) {
    this.name = name;
    this.entry = entry;
    this.env = env;
    this.options = options;
    this.spawned = this.spawn();
  }

  get child(): Spawned['child'] {
    return this.spawned.child;
  }

  get pid(): number | undefined {
    return this.spawned.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** This incarnation's exit. */
  get exited(): Promise<ExitInfo> {
    return this.spawned.exited;
  }

  /** This incarnation's output. */
  currentOutput(): string {
    return this.spawned.output();
  }

  /** Output of every incarnation, each headed by its number. */
  output(): string {
    return [...this.previousOutput, this.header() + this.spawned.output()].join('\n');
  }

  /** Parsed pino lines of every incarnation. */
  logs(): LogLine[] {
    return [...this.previousOutput, this.spawned.output()]
      .join('\n')
      .split('\n')
      .flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  }

  /** The last `chars` characters of the output, for assertion messages. */
  tail(chars = 4_000): string {
    const all = this.output();
    return `=== ${this.name} ===\n${all.length > chars ? `…${all.slice(-chars)}` : all}`;
  }

  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.spawned.waitForOutput(pattern);
  }

  /** Sends a signal and returns at once (SIGSTOP / SIGCONT freeze and thaw the process). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` (default SIGKILL) and resolves once the process exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP')
      throw new Error(`${signal} does not end a process: use signal()`);
    if (this.running) {
      this.child.kill(signal);
      // A frozen (SIGSTOP) process acts on SIGTERM/SIGINT only once thawed.
      if (signal !== 'SIGKILL') this.child.kill('SIGCONT');
    }
    return this.exited;
  }

  /** Environment for the next incarnation (e.g. the port the first one was given). */
  setEnv(vars: Record<string, string>): void {
    this.env = { ...this.env, ...vars };
  }

  /** Kills the current incarnation (SIGKILL) if it still runs, then starts a new one. */
  async restart(envOverrides: Record<string, string> = {}): Promise<void> {
    await this.kill('SIGKILL');
    this.previousOutput.push(this.header() + this.spawned.output());
    this.incarnation++;
    this.env = { ...this.env, ...envOverrides };
    this.spawned = this.spawn();
  }

  private spawn(): Spawned {
    const spawned = spawnNode(this.entry, [], this.env, { nodeArgs: this.options.nodeArgs });
    const { logDir } = this.options;
    if (logDir !== undefined) {
      const path = join(logDir, `${this.name}.log`);
      const append = (chunk: Buffer): void => appendFileSync(path, chunk);
      spawned.child.stdout?.on('data', append);
      spawned.child.stderr?.on('data', append);
    }
    return spawned;
  }

  private header(): string {
    return `--- ${this.name} #${this.incarnation} (pid ${this.spawned.child.pid}) ---\n`;
  }
}
