import { withTimeout } from './with-timeout.js';

/**
 * The one place a service shuts down: named handlers run in registration order (worker, then
 * subscriber, then queue, then Redis), all within one deadline. A handler that overruns is
 * abandoned (logged) so a hung close — `worker.close()` has no timeout of its own — can never keep
 * the process alive. `close()` is safe to call twice: both calls get the same promise.
 */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShutdownReport {
  completed: string[];
  failed: string[];
  timedOut: string[];
}

type Handler = { name: string; run: () => unknown };

export class ShutdownManager {
  private readonly handlers: Handler[] = [];
  private closing: Promise<ShutdownReport> | undefined;

  constructor(private readonly options: { timeoutMs: number; logger?: ShutdownLogger }) {}

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  register(name: string, run: () => unknown): void {
    this.handlers.push({ name, run });
  }

  close(): Promise<ShutdownReport> {
    this.closing ??= this.runAll();
    return this.closing;
  }

  /** SIGINT / SIGTERM → close → exit. A second signal exits at once. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.isClosing) {
        this.options.logger?.warn({ signal }, 'second signal: exiting now');
        exit(1);
        return;
      }
      this.options.logger?.info({ signal }, 'shutting down');
      void this.close().then(
        (report) => exit(report.failed.length + report.timedOut.length === 0 ? 0 : 1),
        () => exit(1),
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  private async runAll(): Promise<ShutdownReport> {
    const deadline = Date.now() + this.options.timeoutMs;
    const report: ShutdownReport = { completed: [], failed: [], timedOut: [] };
    for (const handler of this.handlers) {
      const remaining = deadline - Date.now();
      try {
        const outcome = await withTimeout(
          Promise.resolve()
            .then(handler.run)
            .then(() => 'done' as const),
          remaining,
          'timeout' as const,
        );
        if (outcome === 'timeout') {
          report.timedOut.push(handler.name);
          this.options.logger?.warn(
            { handler: handler.name },
            'shutdown handler overran the deadline',
          );
        } else {
          report.completed.push(handler.name);
        }
      } catch (error) {
        report.failed.push(handler.name);
        this.options.logger?.error(
          { handler: handler.name, err: error },
          'shutdown handler failed',
        );
      }
    }
    return report;
  }
}
