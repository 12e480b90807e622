import type { DumpRegistry, HeartbeatResult } from '@hlsdump/contracts';
import type { DumpProgress } from '@hlsdump/dump-engine';
import type { Logger } from 'pino';

/** What the run does with each heartbeat's answer. */
export interface HeartbeatHandlers {
  /** Whether to beat now, and with what: none before the dump is starting or after it ends. */
  report(): { progress: DumpProgress | undefined } | undefined;
  /** The registry no longer has this run as the owner (`gone`: no record at all). */
  lost(gone: boolean): Promise<void>;
  /** The registry confirmed the ownership, as of `sentAt`; its answer carries the durable flags. */
  confirmed(sentAt: number, answer: { stopRequested: boolean; cancel: boolean }): Promise<void>;
}

/**
 * A run's heartbeat: its progress to the registry, the durable stop and cancel flags back. One at a
 * time; `next()` waits for the one in flight, if any, before sending its own.
 */
export class RunHeartbeat {
  private inFlight = false;
  /** Settles once the heartbeat in flight, if any, has. */
  private settled: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: DumpRegistry,
    private readonly run: { dumpKey: string; runId: string; holder: string },
    private readonly handlers: HeartbeatHandlers,
    private readonly log: Logger,
  ) {}

  /** Settles once no beat is in flight (the next one then carries every change made so far). */
  async idle(): Promise<void> {
    while (this.inFlight) await this.settled;
  }

  /** A periodic beat; skipped while one is in flight. */
  async beat(): Promise<void> {
    if (this.inFlight) return;
    const report = this.handlers.report();
    if (report === undefined) return;
    this.inFlight = true;
    let settle = (): void => {};
    this.settled = new Promise((resolve) => (settle = resolve));
    const sentAt = Date.now();
    try {
      const { dumpKey, runId, holder } = this.run;
      const result: HeartbeatResult = await this.registry.heartbeat(
        dumpKey,
        runId,
        holder,
        report.progress,
      );
      if (result.outcome === 'LOST') await this.handlers.lost(result.gone);
      else await this.handlers.confirmed(sentAt, result);
    } catch (error) {
      // Redis away: the dump keeps writing; the next heartbeat tries again.
      this.log.warn({ err: (error as Error).message }, 'heartbeat failed');
    } finally {
      this.inFlight = false;
      settle();
    }
  }
}
