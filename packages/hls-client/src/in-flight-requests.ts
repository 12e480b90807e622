/**
 * Requests in flight that someone may have to end: one client's on connections it shares with
 * others (its close ends these and only these, where a client with an Agent of its own would close
 * the Agent), or those abandoned on a set of connections (ended when the connections close, or
 * once `limitMs` has passed: an origin claiming a long target duration must not hold them for
 * hours).
 */
export class InFlightRequests {
  private readonly cancels = new Map<(reason: Error) => void, NodeJS.Timeout | undefined>();
  private onEmpty: (() => void) | undefined;

  constructor(private readonly limitMs?: number) {}

  add(cancel: (reason: Error) => void): void {
    const { limitMs } = this;
    const timer =
      limitMs === undefined
        ? undefined
        : setTimeout(() => cancel(new Error(`Given up after ${limitMs} ms`)), limitMs).unref();
    this.cancels.set(cancel, timer);
  }

  delete(cancel: (reason: Error) => void): void {
    const timer = this.cancels.get(cancel);
    if (!this.cancels.delete(cancel)) return;
    clearTimeout(timer);
    if (this.cancels.size === 0) this.onEmpty?.();
  }

  /** Waits up to `graceMs` for the requests in flight to end, then cancels those still running. */
  async drain(graceMs: number, reason: Error): Promise<void> {
    if (this.cancels.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onEmpty = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.onEmpty = undefined;
    }
    this.cancelAll(reason);
  }

  cancelAll(reason: Error): void {
    for (const cancel of [...this.cancels.keys()]) cancel(reason);
  }
}
