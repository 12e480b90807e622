/** How long a new dump that runs waits at most for the worker's other starts before it records. */
export const STARTS_FIRST_MAX_WAIT_MS = 2_000;

/**
 * A start is answered once its dump runs; its first files and segments can wait a moment. In a
 * burst of starts they cannot wait for free: each dump that runs would otherwise fetch its init
 * and first segments and create a dozen files while the others of the burst still wait for their
 * answers, on the same event loop and the same origin. So a new dump that runs begins recording
 * once no start of this worker is in progress any more, or after `maxWaitMs`, whichever comes
 * first: the live edge it starts from is still in the origin's window a few seconds on. A resumed
 * dump does not wait (dump-run.ts): its outage has already eaten into that window.
 */
export class StartsInProgress {
  private inProgress = 0;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly maxWaitMs = STARTS_FIRST_MAX_WAIT_MS) {}

  /** A start begins; the function returned ends it (once, whatever the outcome). */
  begin(): () => void {
    this.inProgress++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.inProgress === 0) for (const release of [...this.waiting]) release();
    };
  }

  /** Settles once no start is in progress, after `maxWaitMs`, or when `signal` aborts. */
  settled(signal: AbortSignal): Promise<void> {
    if (this.inProgress === 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', release);
        this.waiting.delete(release);
        resolve();
      };
      const timer = setTimeout(release, this.maxWaitMs);
      signal.addEventListener('abort', release, { once: true });
      this.waiting.add(release);
    });
  }
}
