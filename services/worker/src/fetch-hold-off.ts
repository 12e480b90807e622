/** What the hold-off needs of the BullMQ worker: it fetches while it has fewer jobs than this. */
export interface Fetcher {
  concurrency: number;
}

/**
 * Keeps a worker from fetching for a while: the job it just refused then goes to a worker with
 * room, instead of back to this one, whose fetch loop, idle while its dumps run, would win the race
 * for it again and again. BullMQ's loop fetches only while it holds fewer jobs than `concurrency`;
 * the refused job's processor, still in hand, makes 1 enough to stop it. When the hold ends the
 * concurrency is back before that processor returns, and its return is what wakes the loop (a
 * raise alone is not noticed by a loop waiting for one of its jobs to end).
 */
export class FetchHoldOff {
  private holding = 0;
  private readonly ends = new Set<() => void>();

  constructor(
    private readonly fetcher: Fetcher,
    /** WORKER_CONCURRENCY: what the worker's concurrency is outside a hold. */
    private readonly concurrency: number,
  ) {}

  /** Resolves after `ms` (or at release()), the worker fetching nothing new meanwhile. */
  async hold(ms: number): Promise<void> {
    this.holding++;
    this.fetcher.concurrency = 1;
    try {
      await new Promise<void>((resolve) => {
        const end = (): void => {
          clearTimeout(timer);
          this.ends.delete(end);
          resolve();
        };
        const timer = setTimeout(end, ms);
        this.ends.add(end);
      });
    } finally {
      if (--this.holding === 0) this.fetcher.concurrency = this.concurrency;
    }
  }

  /** Closing: every hold ends now, so that the worker's close does not wait for them. */
  release(): void {
    for (const end of [...this.ends]) end();
  }
}
