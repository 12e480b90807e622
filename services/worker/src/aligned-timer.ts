import { createHash } from 'node:crypto';

/**
 * The worker's periodic timers (heartbeat, an idle balancer's announcement, the webhook
 * deliverer's cap) fire on one grid: whole seconds shifted by a phase of the worker's own, so
 * timers whose periods are whole seconds fall due together and wake an idle process once, not
 * once each. The phase spreads the workers of a cluster over the second, so they do not all
 * reach Redis at the same instant.
 */
export class TimerGrid {
  readonly phaseMs: number;

  constructor(workerId: string) {
    this.phaseMs = createHash('sha256').update(workerId).digest().readUInt32BE(0) % 1_000;
  }

  /**
   * Milliseconds from `now` to the next instant on the grid of `periodMs` at least half a period
   * away: a timer fires by the event loop's clock, which can run behind Date.now(), so one that
   * just fired may find its own instant still a few milliseconds ahead.
   */
  delay(periodMs: number, now = Date.now()): number {
    const period = Math.max(1, Math.round(periodMs));
    const ahead = (((this.phaseMs - now) % period) + period) % period;
    return ahead < period / 2 ? ahead + period : ahead;
  }
}
