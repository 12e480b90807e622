import {
  SIGNATURE_HEADER,
  signWebhook,
  type ClaimedDelivery,
  type EventOutbox,
} from '@hlsdump/contracts';
import type { Logger } from 'pino';
import type { TimerGrid } from './aligned-timer.js';

export interface WebhookDelivererOptions {
  outbox: EventOutbox;
  /** Signs every delivery (`X-Hlsdump-Signature`); unsigned without it. */
  secret?: string;
  logger: Logger;
  /** Deliveries in flight at once, over all channels: a slow receiver holds only its own. */
  maxInFlight?: number;
  /**
   * The longest the outbox goes unlooked-at (up to half as long again, to land on `grid`).
   * Between looks the deliverer sleeps until the earliest time the outbox says something is due
   * (a retry, a lease running out), or until `wake()`: the events this process appends wake it
   * at once. What the cap is left for: events another worker appended and could not send (it
   * died), picked up by this one within the cap.
   */
  pollMs?: number;
  /** The cap's sleeps end on this grid, with the worker's other timers. */
  grid?: TimerGrid;
  /** A receiver that has not answered by then has failed this attempt. */
  requestTimeoutMs?: number;
  /** Retry backoff: base × 2^attempts, capped, with jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** An event still undelivered this long after it happened is dropped (logged). */
  giveUpAfterMs?: number;
}

/**
 * The default cap between two looks at the outbox: a multiple of the default heartbeat, so the
 * two fall due together on the worker's timer grid; with the grid, a look comes every 4 s when
 * nothing wakes the deliverer and never more than 6 s after the last (well inside the 10 s in
 * which a killed worker's dumps run again, docs/reliability.md).
 */
export const DEFAULT_OUTBOX_POLL_MS = 4_000;

/** The shortest sleep between two looks, so a clock a little behind Redis's scores never spins. */
const MIN_SLEEP_MS = 20;

/**
 * Sends the outbox's events: leases due channels, POSTs each head event signed, acknowledges a
 * 2xx, backs off on anything else. Every worker runs one; the lease (longer than the request
 * timeout) keeps two from sending the same channel at once, and a deliverer that dies simply
 * lets its leases run out. It looks at the outbox only when something may be due there: woken
 * by this process's own appends (`wake()`) and deliveries ending, otherwise at the earliest due
 * time the last look saw, and at least every `pollMs`.
 */
export class WebhookDeliverer {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Set by wake(): the next sleep is skipped (a wake while a look is in flight is not lost). */
  private woken = false;
  private wakeSleeper: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxInFlight: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;

  constructor(private readonly o: WebhookDelivererOptions) {
    this.maxInFlight = o.maxInFlight ?? 32;
    this.pollMs = o.pollMs ?? DEFAULT_OUTBOX_POLL_MS;
    this.timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.leaseMs = this.timeoutMs + 5_000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something may be due now (this process appended events): look at the outbox at once. */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  /** Stops claiming; waits for the deliveries in flight (each bounded by the request timeout). */
  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      // Cleared before the look is sent: a wake from here on means another look.
      this.woken = false;
      let sleepMs = this.o.grid?.delay(this.pollMs) ?? this.pollMs;
      try {
        const free = this.maxInFlight - this.inFlight.size;
        // At the limit, a delivery ending wakes the loop.
        if (free > 0) {
          const { claimed, nextDueAt } = await this.o.outbox.claimDue(free, this.leaseMs);
          for (const delivery of claimed) {
            const sending: Promise<void> = this.deliver(delivery).finally(() => {
              this.inFlight.delete(sending);
              this.wake();
            });
            this.inFlight.add(sending);
          }
          // Every due channel claimed: sleep until the next one is due, within the cap.
          if (claimed.length < free && nextDueAt !== undefined)
            sleepMs = Math.min(sleepMs, Math.max(MIN_SLEEP_MS, nextDueAt - Date.now()));
        }
      } catch (error) {
        this.o.logger.warn({ err: (error as Error).message }, 'event outbox unavailable');
      }
      await this.sleep(sleepMs);
    }
  }

  private async sleep(ms: number): Promise<void> {
    if (this.woken || this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeSleeper = undefined;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const log = this.o.logger.child({ channel: delivery.channel, url: delivery.url });
    if (this.tooOld(delivery.body)) {
      log.error({ attempts: delivery.attempts, event: delivery.body }, 'event given up');
      await this.o.outbox.ack(delivery).catch(() => false);
      return;
    }
    let failure: string | undefined;
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'hlsdump',
      };
      if (this.o.secret)
        headers[SIGNATURE_HEADER] = signWebhook(this.o.secret, delivery.body, Date.now() / 1000);
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        // A receiver must not send our requests elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status >= 300)
        failure = `the receiver answered ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      failure = `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
    }
    try {
      if (failure === undefined) {
        await this.o.outbox.ack(delivery);
        return;
      }
      const delay = this.backoff(delivery.attempts);
      log.warn(
        { attempts: delivery.attempts + 1, retryInMs: delay, err: failure },
        'event delivery failed',
      );
      await this.o.outbox.retry(delivery, Date.now() + delay, failure);
    } catch (error) {
      // Redis away: the lease runs out and the event is sent again later (at least once).
      log.warn({ err: (error as Error).message }, 'could not record a delivery');
    }
  }

  private backoff(attempts: number): number {
    const base = this.o.retryBaseMs ?? 500;
    const max = this.o.retryMaxMs ?? 60_000;
    const capped = Math.min(max, base * 2 ** Math.min(attempts, 20));
    return Math.round(capped / 2 + (Math.random() * capped) / 2);
  }

  private tooOld(body: string): boolean {
    const giveUpAfterMs = this.o.giveUpAfterMs ?? 24 * 3600 * 1000;
    try {
      const time = Date.parse((JSON.parse(body) as { time?: string }).time ?? '');
      return !Number.isNaN(time) && Date.now() - time > giveUpAfterMs;
    } catch {
      return true;
    }
  }
}
