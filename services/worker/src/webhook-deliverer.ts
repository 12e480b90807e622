import {
  SIGNATURE_HEADER,
  signWebhook,
  type ClaimedDelivery,
  type EventOutbox,
} from '@hlsdump/contracts';
import type { Logger } from 'pino';

export interface WebhookDelivererOptions {
  outbox: EventOutbox;
  /** Signs every delivery (`X-Hlsdump-Signature`); unsigned without it. */
  secret?: string;
  logger: Logger;
  /** Deliveries in flight at once, over all channels: a slow receiver holds only its own. */
  maxInFlight?: number;
  /** How often the outbox is looked at when nothing woke the loop. */
  pollMs?: number;
  /** A receiver that has not answered by then has failed this attempt. */
  requestTimeoutMs?: number;
  /** Retry backoff: base × 2^attempts, capped, with jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** An event still undelivered this long after it happened is dropped (logged). */
  giveUpAfterMs?: number;
}

/**
 * Sends the outbox's events: leases due channels, POSTs each head event signed, acknowledges a
 * 2xx, backs off on anything else. Every worker runs one; the lease (longer than the request
 * timeout) keeps two from sending the same channel at once, and a deliverer that dies simply
 * lets its leases run out.
 */
export class WebhookDeliverer {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private wake: () => void = () => {};
  private loop: Promise<void> | undefined;
  private readonly maxInFlight: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;

  constructor(private readonly o: WebhookDelivererOptions) {
    this.maxInFlight = o.maxInFlight ?? 32;
    this.pollMs = o.pollMs ?? 250;
    this.timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.leaseMs = this.timeoutMs + 5_000;
  }

  start(): void {
    this.loop ??= this.run();
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
      try {
        const claimed = await this.o.outbox.claim(
          this.maxInFlight - this.inFlight.size,
          this.leaseMs,
        );
        for (const delivery of claimed) {
          const sending: Promise<void> = this.deliver(delivery).finally(() => {
            this.inFlight.delete(sending);
            this.wake();
          });
          this.inFlight.add(sending);
        }
      } catch (error) {
        this.o.logger.warn({ err: (error as Error).message }, 'event outbox unavailable');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
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
