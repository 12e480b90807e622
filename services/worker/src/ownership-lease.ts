/**
 * This worker's ownership of one dump, as the fence before every write sees it. Within the lease
 * the ownership confirmed by the last heartbeat (or checkpoint) holds; past it (the worker was
 * frozen, or cut off), Redis must confirm it first, so an owner that comes back after another
 * worker took the dump over stops instead of writing. While Redis is unreachable the dump keeps
 * writing: no other worker can take it over through Redis either.
 */
export class OwnershipLease {
  /** Until then the ownership counts as confirmed; after it, a write asks Redis first. */
  private until = 0;
  private revoked = false;
  private check: Promise<void> | undefined;

  constructor(
    private readonly options: {
      /** How long a confirmed ownership is trusted. */
      leaseMs: number;
      /** Asks Redis: true (owned), false (lost), undefined (no answer: Redis away). */
      confirm: () => Promise<boolean | undefined>;
      /** Told once the ownership is found lost. */
      onLost: () => void;
    },
  ) {}

  get lost(): boolean {
    return this.revoked;
  }

  /** Counted from when the confirmation was asked, never from when its answer arrived. */
  renew(confirmedAt = Date.now()): void {
    this.until = Math.max(this.until, confirmedAt + this.options.leaseMs);
  }

  /** Another owner, or no record: nothing more may be written. */
  markLost(): void {
    this.revoked = true;
    this.options.onLost();
  }

  /** The fence before every write: throws once the ownership is lost. */
  async fence(): Promise<void> {
    if (this.revoked) throw new Error('this worker no longer owns the dump');
    if (Date.now() <= this.until) return;
    this.check ??= this.confirm().finally(() => (this.check = undefined));
    await this.check;
    if (this.revoked) throw new Error('this worker no longer owns the dump');
  }

  private async confirm(): Promise<void> {
    const askedAt = Date.now();
    const owns = await this.options.confirm();
    if (owns === undefined) return;
    if (owns) this.renew(askedAt);
    else this.markLost();
  }
}
