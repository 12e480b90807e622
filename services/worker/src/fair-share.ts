import type { DumpJobData } from '@hlsdump/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TimerGrid } from './aligned-timer.js';

/** What the balancer needs of a dump run: the hand-off used on SIGTERM. */
export interface Sheddable {
  suspend(): void;
}

/** What the balancer needs of the BullMQ worker: when it starts closing. */
export interface BalancedWorker {
  on(event: 'closing', listener: () => void): unknown;
}

export interface FairShareOptions {
  redisPrefix: string;
  queueName: string;
  workerId: string;
  /** WORKER_CONCURRENCY: never more than this, whatever the share. */
  maxConcurrency: number;
  intervalMs: number;
  logger: Logger;
  /** Called with the number of dumps handed back for being over the share. */
  onShed?: (count: number) => void;
}

/**
 * Spreads dumps evenly over the workers taking jobs. BullMQ only hands a worker new or handed-off
 * jobs, so a worker that joins a busy cluster would otherwise stay idle while the first one holds
 * everything. Each tick, every worker announces itself in a sorted set, reads how many dumps the
 * queue holds (active + waiting + delayed) and how many workers take jobs, and:
 * - takes at most its fair share, ceil(dumps / workers) (capped by WORKER_CONCURRENCY), so a
 *   joining worker does not grab more than its part: a job fetched beyond it goes straight back
 *   (refusedDelayMs, untilRoom; the worker fetches at most one job beyond it, fetch-gate.ts);
 * - hands back the dumps it holds beyond that share, through the same suspend → checkpoint →
 *   re-queue hand-off as SIGTERM, so they resume on a worker with room without losing a segment.
 * A worker that starts closing leaves the set at once, so the others make room for its dumps.
 *
 * A worker that holds nothing, and found no job waiting at its last look, has nothing to share
 * or hand back: it only announces itself (see idleAnnounceMs) until it holds a dump or is asked
 * to admit one (a job waiting is fetched at once by an idle worker, so that is how it learns of
 * one).
 */
export class FairShareBalancer {
  private runs: ReadonlyMap<string, Sheddable> = new Map();
  private redis: Redis | undefined;
  /** The dump queue on the worker's commands connection, for its job counts. */
  private queue: Queue<DumpJobData> | undefined;
  private target = 1;
  /** From the last look: workers taking jobs, and the jobs active anywhere (held or starting). */
  private workers = 1;
  private active = 0;
  /** Whether the job refused last could start on another worker now (see refusedDelayMs). */
  private roomElsewhere = false;
  private timer: NodeJS.Timeout | undefined;
  /** Whether the timer set is at the announcements' pace (idle or calm, see schedule()). */
  private calmTimer = false;
  /** Jobs waiting (or delayed, prioritized) in the queue at the last look. */
  private waiting = 0;
  /** The last look changed nothing: no job waiting, the share as before, nothing handed back. */
  private steady = false;
  private ticking: Promise<void> | undefined;
  private leaving = false;
  private readonly shed = new WeakSet<Sheddable>();
  private readonly key: string;
  /** An idle worker's announcements fall due with its heartbeats (aligned-timer.ts). */
  private readonly grid: TimerGrid;

  constructor(private readonly options: FairShareOptions) {
    this.key = `${options.redisPrefix}:takers:${options.queueName}`;
    this.grid = new TimerGrid(options.workerId);
  }

  /** Before the worker takes its first job (one at a time until the first tick knows the share). */
  attach(worker: BalancedWorker): void {
    worker.on('closing', () => void this.leave());
  }

  /** Starts ticking over the runs the worker holds; `redis` is its commands connection. */
  start(runs: ReadonlyMap<string, Sheddable>, redis: Redis): void {
    this.runs = runs;
    this.redis = redis;
    this.queue = new Queue<DumpJobData>(this.options.queueName, {
      connection: redis,
      prefix: this.options.redisPrefix,
    });
    this.queue.on('error', () => {});
    if (this.leaving) return;
    void this.tick().finally(() => this.schedule());
  }

  /** A worker silent this long (at least 3 s: a busy event loop ticks late) is gone. */
  private get staleAfterMs(): number {
    return Math.max(5 * this.options.intervalMs, 3_000);
  }

  /**
   * How often an idle worker announces itself: two thirds of the time after which it would count
   * as gone (2 s: with the default heartbeat, on the same instants). One late by more than the
   * third left drops out of the count until its next announcement: the others' share is larger
   * for that moment, which hands nothing back.
   */
  private get idleAnnounceMs(): number {
    return Math.max(this.options.intervalMs, Math.floor((this.staleAfterMs * 2) / 3));
  }

  /**
   * The next look: a full one every interval (`busy`: whatever the last look found), only an
   * announcement while idle, and a full one at the announcements' pace while the cluster holds
   * still (the last look found no job waiting and this worker at its share or under it, the
   * share unchanged): a busy worker's look every interval was a twentieth of its CPU at a few
   * dumps, and what it is for — a job waiting, a worker joining or leaving — shows in the next
   * look or in a fetched job's own look (admits).
   */
  private schedule(busy = false): void {
    if (this.leaving) return;
    clearTimeout(this.timer);
    const idle = !busy && this.runs.size === 0 && this.waiting === 0;
    const { intervalMs } = this.options;
    const calm = idle || (!busy && this.steady);
    this.calmTimer = calm;
    const delay = calm ? this.grid.delay(this.idleAnnounceMs) : intervalMs;
    this.timer = setTimeout(() => {
      // Idle, yet holding a dump since: the full look now.
      const look = idle && this.runs.size === 0 ? this.announce() : this.tick();
      void look.finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  /** Only "this worker takes jobs": all an idle worker's look is for. */
  private async announce(): Promise<void> {
    const { redis } = this;
    if (this.leaving || !redis || redis.status !== 'ready') return;
    await redis.zadd(this.key, Date.now(), this.options.workerId).catch((error: unknown) => {
      this.options.logger.warn({ err: (error as Error).message }, 'fair share not updated');
    });
  }

  /**
   * Whether a job just fetched may start here, with `held` dumps running. At the share, the share
   * is looked at again first: in a burst of starts the queue grew since the last tick, and a
   * refusal costs the job a round trip through the queue.
   */
  async admits(held: number): Promise<boolean> {
    // A job came: an idle or calm worker looks at the cluster every interval again.
    if (this.calmTimer) this.schedule(true);
    if (held < this.target) return true;
    await this.ticking;
    await this.tick();
    if (held < this.target) return true;
    // The jobs active on the other workers, from the same look: the job being judged and this
    // worker's own are not theirs (jobs other processors here are still judging count as theirs,
    // which only makes room elsewhere look smaller).
    const theirs = this.active - held - 1;
    this.roomElsewhere = this.workers > 1 && theirs < (this.workers - 1) * this.target;
    return false;
  }

  /**
   * How long a job this worker refused waits before any worker may fetch it: not at all when
   * another worker has room for it now (a burst of starts whose jobs one worker fetched ahead of
   * the others; this worker keeps off it, see untilRoom), else half a tick, so that the share is
   * looked at again before it comes back.
   */
  get refusedDelayMs(): number {
    return this.roomElsewhere ? 0 : Math.ceil(this.options.intervalMs / 2);
  }

  /**
   * After a refusal, while this worker fetches nothing: resolves once a look (every tenth of a
   * tick) finds room here for `held()` dumps, or no job waiting for anyone, and after one tick at
   * most. A worker with room that is slow to fetch (busy starting its own dumps) then gets the
   * job, instead of the refusing one, idle at its share, winning it again and again.
   */
  async untilRoom(held: () => number): Promise<void> {
    const { intervalMs } = this.options;
    const until = Date.now() + intervalMs;
    while (!this.leaving && Date.now() < until) {
      await sleep(Math.ceil(intervalMs / 10));
      await this.tick();
      if (this.waiting === 0 || held() < this.target) return;
    }
  }

  /** The most dumps this worker takes now. */
  get capacity(): number {
    return this.target;
  }

  /** One look at the cluster; never two at once. */
  tick(): Promise<void> {
    this.ticking ??= this.rebalance()
      .catch((error: unknown) =>
        // Redis away: keep the last share; the dumps go on writing.
        this.options.logger.warn({ err: (error as Error).message }, 'fair share not updated'),
      )
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async rebalance(): Promise<void> {
    const { redis, queue } = this;
    // Redis away: keep the last share rather than queue commands until it is back.
    if (this.leaving || !redis || !queue || redis.status !== 'ready') return;
    const { workerId, maxConcurrency } = this.options;
    const now = Date.now();
    // Both leave at once: one round trip a tick, not two, on a worker busy writing.
    const [replies, counts] = await Promise.all([
      redis
        .multi()
        .zadd(this.key, now, workerId)
        .zremrangebyscore(this.key, '-inf', now - this.staleAfterMs)
        .zcard(this.key)
        .exec(),
      queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized'),
    ]);
    const workers = Number(replies?.[2]?.[1] ?? 1);
    const dumps = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (this.leaving) return;
    this.workers = Math.max(1, workers);
    this.active = counts.active ?? 0;
    this.waiting = dumps - this.active;
    const share = Math.max(1, Math.ceil(dumps / Math.max(1, workers)));
    const target = Math.min(maxConcurrency, share);
    if (target !== this.target) {
      this.options.logger.info(
        { dumps, workers, capacity: target, previous: this.target },
        'fair share changed',
      );
    }
    this.steady = target === this.target && this.waiting === 0;
    this.target = target;
    const held = [...this.runs.values()].filter((run) => !this.shed.has(run));
    const excess = held.length - target;
    if (excess <= 0) return;
    this.steady = false;
    // The oldest first: they are running (a young one may still be starting).
    for (const run of held.slice(0, excess)) {
      this.shed.add(run);
      run.suspend();
    }
    this.options.logger.info(
      { handedBack: excess, held: held.length, capacity: target, workers, dumps },
      'handing dumps back over the fair share',
    );
    this.options.onShed?.(excess);
  }

  /** Closing: out of the set at once, so the others make room for the dumps handed back. */
  private async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.redis?.zrem(this.key, this.options.workerId).catch(() => {});
    await this.queue?.close().catch(() => {});
  }
}
