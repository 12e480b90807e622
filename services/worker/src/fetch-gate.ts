/** What the gate needs of the BullMQ worker. */
export interface GatedWorker {
  /** BullMQ's loop fetches while it has fewer jobs in hand (running, judged or fetching) than this. */
  concurrency: number;
  readonly closing: Promise<void> | undefined;
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): Promise<void>;
}

/**
 * How many jobs the worker fetches: one beyond its fair share (the one it judges), not
 * WORKER_CONCURRENCY, so a worker at its share does not fetch a run of jobs only to refuse each
 * (they would wait the round trip back through the queue); and nothing while it holds off after a
 * refusal, so the job goes to a worker with room instead of back to this one, whose fetch loop,
 * idle while its dumps run, would win the race for it again and again.
 *
 * BullMQ's loop notices a lowered concurrency at once, but a raised one only when one of the jobs
 * it waits on settles, which for a dump may be hours: a raise wakes it as `resume()` after a pause
 * does (pause and resume in one step, the loop never sees the pause; the stalled-job checker the
 * pause stops restarts with a check at once). A hold ends with the refused job's processor
 * returning, which wakes the loop itself.
 */
export class FetchGate {
  private holding = 0;
  private open: number;

  constructor(
    private readonly worker: GatedWorker,
    /** WORKER_CONCURRENCY: never more, whatever the share. */
    private readonly max: number,
    share: number,
  ) {
    this.open = this.openFor(share);
    worker.concurrency = this.open;
  }

  /** The worker's share now (after each look at the cluster). */
  share(share: number): void {
    const open = this.openFor(share);
    const raised = open > this.open;
    this.open = open;
    if (this.holding > 0) return;
    this.worker.concurrency = open;
    if (raised) this.wake();
  }

  /** Settles with `until` (or at release()), the worker fetching nothing new meanwhile. */
  async hold(until: Promise<void>): Promise<void> {
    this.holding++;
    this.worker.concurrency = 1;
    try {
      await new Promise<void>((resolve) => {
        const end = (): void => {
          this.ends.delete(end);
          resolve();
        };
        this.ends.add(end);
        until.then(end, end);
      });
    } finally {
      if (--this.holding === 0) this.worker.concurrency = this.open;
    }
  }

  /** Closing: every hold ends now, so that the worker's close does not wait for them. */
  release(): void {
    for (const end of [...this.ends]) end();
  }

  private readonly ends = new Set<() => void>();

  private openFor(share: number): number {
    return Math.max(1, Math.min(this.max, share + 1));
  }

  private wake(): void {
    if (this.worker.closing) return;
    void this.worker.pause(true).catch(() => undefined);
    void this.worker.resume().catch(() => undefined);
  }
}
