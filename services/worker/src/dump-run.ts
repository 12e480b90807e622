import { setTimeout as sleep } from 'node:timers/promises';
import {
  newRunIdentity,
  publishDumpEvent,
  UNKNOWN_FAILURE,
  type DumpEventMessage,
  type DumpFailureInfo,
  type DumpRecord,
  type DumpRegistry,
  type FinalState,
} from '@hlsdump/contracts';
import { describeFailure, type DumpCheckpoint, type DumpProgress } from '@hlsdump/dump-engine';
import type { Logger } from 'pino';
import { dumpRequestOf } from './dump-request.js';
import type { CreateDump, DumpHandle } from './engine.js';
import { OwnershipLease } from './ownership-lease.js';
import { failInfoFile, poisonFailure } from './poison-dump.js';
import { restoreLostRecord } from './record-restore.js';
import { writePathCall } from './registry-call.js';
import { checkpointOf, checkpointSaver, CheckpointInvalidError } from './run-checkpoints.js';
import { RunHeartbeat } from './run-heartbeat.js';
import type { RunHooks, RunHooksFactory } from './run-hooks.js';
import type { StartsInProgress } from './starts-in-progress.js';

export interface RunContext {
  registry: DumpRegistry;
  workerId: string;
  createDump: CreateDump;
  logger: Logger;
  /**
   * A dump whose owner has not heartbeaten for this long is taken over when BullMQ redelivers its
   * job (the lock duration: BullMQ does not redeliver sooner).
   */
  staleAfterMs: number;
  /** How long a confirmed ownership is trusted before the next write must confirm it again. */
  leaseMs: number;
  /**
   * When the registry's connection was last (re)connected (`redis-ready-since.ts`); unknown
   * means a takeover waits a whole lease.
   */
  redisReadySince?: () => number;
  /** Puts a watchdog job for the dump back in the queue (after Redis lost the original). */
  requeue?: (record: DumpRecord) => Promise<void>;
  /** A dump taken over after this many runs in a row died with their worker ends in Error. */
  poisonAfterCrashes?: number;
  /** A run Running this long clears that count: the dump does not take its worker down. */
  crashesClearedAfterMs?: number;
  /** Told of the run's state changes (events for receivers, releases). */
  hooks?: RunHooksFactory;
  /** The worker's starts on their way to an answer: a new dump that runs records once they are. */
  starts?: StartsInProgress;
}

/** How a run ended, as the BullMQ job's return value. */
export type RunResult =
  | { outcome: 'dropped'; reason: string }
  /** Its owner looked alive: the job was redelivered early and waits `delayMs` to look again. */
  | { outcome: 'deferred'; owner: string; delayMs: number }
  | { outcome: 'withdrawn' }
  | { outcome: 'failed'; error: DumpFailureInfo }
  | { outcome: 'ended'; state: 'Completed' | 'Error'; stopped: boolean }
  | { outcome: 'suspended' }
  | { outcome: 'lost' };

type Interrupt = 'stop' | 'suspend' | 'lost';
type Phase = 'claiming' | 'starting' | 'running' | 'ending';
type RunEvent = Omit<DumpEventMessage, 'dumpKey' | 'runId' | 'owner'>;

/**
 * One job's dump on this worker: claim it, start the engine, acknowledge, then run until it is
 * stopped (pub/sub or the durable flag), ends on its own, or is suspended for a hand-off. Its
 * ownership lease (`ownership-lease.ts`), heartbeats (`run-heartbeat.ts`), checkpoints
 * (`run-checkpoints.ts`) and Redis-loss recovery (`record-restore.ts`) each live in their own file.
 */
export class DumpRun {
  private phase: Phase = 'claiming';
  private interrupt: Interrupt | undefined;
  private wake: () => void = () => {};
  private readonly interrupted = new Promise<void>((resolve) => (this.wake = resolve));
  private readonly startAbort = new AbortController();
  private cancelled = false;
  private dump: DumpHandle | undefined;
  private record: DumpRecord | undefined;
  private hooks: RunHooks | undefined;
  private runningSince = 0;
  /** Runs in a row before this one that died with their worker, until this run clears them. */
  private crashesBefore = 0;
  private readonly log: Logger;
  /**
   * Who holds the dump in the registry: this run, not just this worker (a job redelivered to the
   * same worker must fence out the run it replaces). Events still name the worker.
   */
  private readonly holder: string;
  private readonly lease: OwnershipLease;
  private readonly beats: RunHeartbeat;

  constructor(
    private readonly ctx: RunContext,
    readonly dumpKey: string,
    readonly runId: string,
    jobSignal?: AbortSignal,
  ) {
    this.log = ctx.logger.child({ dumpKey, runId });
    const { registry } = ctx;
    const holder = newRunIdentity(ctx.workerId);
    this.holder = holder;
    this.lease = new OwnershipLease({
      leaseMs: ctx.leaseMs,
      confirm: () => writePathCall(registry, () => registry.owns(dumpKey, runId, holder)),
      onLost: () => this.setInterrupt('lost'),
    });
    this.beats = new RunHeartbeat(
      registry,
      { dumpKey, runId, holder },
      {
        report: () => this.heartbeatReport(),
        lost: (gone) => this.heartbeatLost(gone),
        confirmed: (sentAt, answer) => this.heartbeatConfirmed(sentAt, answer),
      },
      this.log,
    );
    // BullMQ's cancelJob: abort a start, stop a running dump.
    jobSignal?.addEventListener(
      'abort',
      () => (this.phase === 'running' ? this.requestStop() : this.cancel()),
      { once: true },
    );
  }

  /** A stop (pub/sub message or durable flag): finalize the dump. */
  requestStop(): void {
    this.setInterrupt('stop');
  }

  /** The gateway withdrew the start: abort it, never acknowledge. */
  cancel(): void {
    if (this.phase === 'running' || this.phase === 'ending') return;
    this.cancelled = true;
    this.startAbort.abort(new Error('start withdrawn'));
  }

  /** Shutdown: hand the dump back to the queue with its checkpoint. */
  suspend(): void {
    this.setInterrupt('suspend');
  }

  /** The outcome the processor must act on after run() resolved with `suspended`. */
  get handedOff(): boolean {
    return this.interrupt === 'suspend';
  }

  /** Progress to the registry; the durable stop and cancel flags back (periodic, by the worker). */
  async heartbeat(): Promise<void> {
    await this.beats.beat();
  }

  /** Claim, start, acknowledge, then run until the dump ends, is stopped, handed off or lost. */
  async run(): Promise<RunResult> {
    const startEnded = this.ctx.starts?.begin();
    try {
      return await this.startAndRun(startEnded);
    } finally {
      startEnded?.();
    }
  }

  /** `startEnded`: told once the start has its answer (running, or not). */
  private async startAndRun(startEnded: (() => void) | undefined): Promise<RunResult> {
    const claimed = await this.claim();
    if ('outcome' in claimed) return claimed;
    const { record, resumeFrom } = claimed;
    const log = this.log.child({ dumpId: record.id, outputStreamName: record.outputStreamName });
    const dump = this.createDump(record, resumeFrom, log);
    // A stop recorded while the dump waited for a worker: resume, then finalize at once.
    if (record.stopRequested) this.requestStop();
    this.phase = 'starting';
    log.info({ resumed: resumeFrom !== undefined }, 'starting dump');
    try {
      try {
        await dump.start(this.startAbort.signal);
      } catch (error) {
        if (this.cancelled) return await this.end('Withdrawn', { type: 'withdrawn' });
        const failure = describeFailure(error);
        log.warn({ error: failure }, 'dump could not start');
        return await this.end(
          'Error',
          { type: 'error', error: failure },
          { error: failure, progress: dump.progress() },
        );
      }
      const notRunning = await this.acknowledge(dump, log);
      if (notRunning) return notRunning;
      startEnded?.();
      return await this.runUntilEnd(dump, log);
    } finally {
      await dump.dispose?.().catch(() => {});
    }
  }

  /**
   * The dump becomes this run's: claimed (or taken over from a dead owner), its checkpoint read
   * when it resumes. A run's result instead when it must not start here.
   */
  private async claim(): Promise<
    { record: DumpRecord; resumeFrom: DumpCheckpoint | undefined } | RunResult
  > {
    const { registry } = this.ctx;
    const claim = await registry.claim(
      this.dumpKey,
      this.runId,
      this.holder,
      this.ctx.staleAfterMs,
    );
    if (!claim.ok) {
      if (claim.reason === 'OWNED') {
        // Look again as soon as the owner's heartbeat would be stale, not a whole lock later.
        return { outcome: 'deferred', owner: claim.owner, delayMs: claim.staleInMs + 100 };
      }
      // Withdrawn, stopped, or someone else's: this job must not start anything.
      this.log.info({ reason: claim.reason, state: claim.state }, 'job dropped');
      return { outcome: 'dropped', reason: claim.state ?? claim.reason };
    }
    const record = claim.record;
    this.record = record;
    this.crashesBefore = record.crashes ?? 0;
    this.lease.renew();
    this.hooks = this.ctx.hooks?.(record);
    if (claim.previousOwner !== undefined) {
      this.log.warn(
        { previousOwner: claim.previousOwner, checkpoint: record.checkpoint !== undefined },
        'taking over a dump whose owner stopped heartbeating',
      );
      await this.outwaitPreviousLease();
      const limit = this.ctx.poisonAfterCrashes;
      if (limit !== undefined && (record.crashes ?? 0) >= limit) {
        const failure = poisonFailure(record.crashes ?? 0);
        return this.endUnstarted(record, failure, 'poison dump: not started again');
      }
    }
    try {
      return { record, resumeFrom: checkpointOf(record) };
    } catch (error) {
      if (!(error instanceof CheckpointInvalidError)) throw error;
      return this.endUnstarted(
        record,
        describeFailure(error),
        'checkpoint unreadable: not resumed',
      );
    }
  }

  /**
   * Marks the started dump Running (the gateway's 200) and tells it. A result instead when the
   * start was withdrawn meanwhile (its files finalized, Withdrawn) or the dump lost.
   */
  private async acknowledge(dump: DumpHandle, log: Logger): Promise<RunResult | undefined> {
    // A start already withdrawn here is not told as running (it ends Withdrawn, told to no one).
    const running = this.cancelled ? undefined : this.hooks?.running(dump.progress());
    const marked = await this.ctx.registry.markRunning(
      this.dumpKey,
      this.runId,
      this.holder,
      running,
    );
    if (marked.outcome === 'CANCELLED' || (marked.outcome === 'OK' && this.cancelled)) {
      // Withdrawn between the files appearing and the acknowledgement: finalize them, report Withdrawn.
      const progress = await dump.stop();
      return await this.end('Withdrawn', { type: 'withdrawn' }, { progress });
    }
    if (marked.outcome === 'LOST') {
      this.lease.markLost();
      await dump.suspend();
      log.error({ state: marked.state }, 'dump lost before it was acknowledged');
      return { outcome: 'lost' };
    }
    this.hooks?.recorded(running);
    this.phase = 'running';
    this.runningSince = Date.now();
    // The renditions in the status at once, not only after the first heartbeat interval; a
    // periodic one still in flight from the start carries none, so this one waits for it.
    await this.beats.idle();
    // Both commands leave now on the one connection, so Redis applies the heartbeat before the
    // gateway hears `running`, without waiting a round trip between them.
    const beat = this.beats.beat();
    await this.publish({ type: 'running' });
    await beat;
    log.info('dump running');
    if (marked.stopRequested) this.requestStop();
    return undefined;
  }

  /** Whichever comes first: the dump's own end, a stop, a hand-off, the loss of its ownership. */
  private async runUntilEnd(dump: DumpHandle, log: Logger): Promise<RunResult> {
    const first = await Promise.race([
      dump.done.then((progress) => ({ kind: 'done' as const, progress })),
      this.interrupted.then(() => ({ kind: this.interrupt ?? ('stop' as const) })),
    ]);
    this.phase = 'ending';
    if (first.kind === 'done') return await this.ended(first.progress, false);
    if (first.kind === 'stop') {
      const stopping = await this.ctx.registry.markStopping(this.dumpKey, this.runId, this.holder);
      // A record that names another holder: finalizing the files is that run's business. (No
      // record at all is Redis restarted empty: this run is still the only one writing.)
      if (!stopping && (await this.ctx.registry.get(this.dumpKey)) !== null) {
        await dump.suspend();
        log.error('stop for a dump this run no longer owns; stopped writing');
        return { outcome: 'lost' };
      }
      return await this.ended(await dump.stop(), true);
    }
    if (first.kind === 'lost') {
      await dump.suspend();
      log.error('dump lost: another owner or no record; stopped writing');
      return { outcome: 'lost' };
    }
    return await this.handOff(dump, log);
  }

  /** The engine's dump for the record, fenced by the lease, its checkpoints saved, its events told. */
  private createDump(
    record: DumpRecord,
    resumeFrom: DumpCheckpoint | undefined,
    log: Logger,
  ): DumpHandle {
    const { registry, starts } = this.ctx;
    const dump = this.ctx.createDump(dumpRequestOf(record), {
      ...(resumeFrom && { resumeFrom }),
      beforeWrite: () => this.lease.fence(),
      // A resumed dump records at once: its outage has already eaten into the origin's window.
      ...(starts &&
        !resumeFrom && { beforeRecording: (signal: AbortSignal) => starts.settled(signal) }),
      onCheckpoint: checkpointSaver({
        registry,
        dumpKey: this.dumpKey,
        runId: this.runId,
        holder: this.holder,
        lease: this.lease,
        hooks: this.hooks,
      }),
    });
    this.dump = dump;
    dump.on((event) => {
      if (event.type === 'gap')
        this.hooks?.gap(event.chunklist, event.msn, event.reason, dump.progress());
    });
    dump.on((event) => {
      if (event.type === 'gap')
        log.warn({ chunklist: event.chunklist, msn: event.msn, reason: event.reason }, 'gap');
      else if (event.type === 'notice')
        log.warn({ chunklist: event.chunklist, tag: event.tag }, `not honoured: ${event.message}`);
      // Running and Completed are logged by the run as it acknowledges and ends ('dump running',
      // 'dump ended'): at info only a status with an error, two lines less per dump.
      else if (event.type === 'status' && event.error)
        log.warn({ status: event.status, error: event.error }, 'dump status');
      else if (event.type === 'status') log.debug({ status: event.status }, 'dump status');
    });
    return dump;
  }

  /**
   * The previous owner may still be writing: the heartbeat that made it look dead may only be
   * missing because a Redis failover lost the newer ones (replication is asynchronous). Writes
   * are lost only with the master that acknowledged them, before this worker's connection
   * reconnected to its successor; the owner writes unconfirmed for at most its lease after its
   * last confirmation. So a lease after that reconnect, by this worker's own clock and never
   * Redis's copy of the heartbeat, the files are this run's alone. Without a failover since a
   * lease ago (the common takeover: a worker died) there is nothing to wait for.
   */
  private async outwaitPreviousLease(): Promise<void> {
    const readySince = this.ctx.redisReadySince?.() ?? Date.now();
    const wait = readySince + this.ctx.leaseMs - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /** Shutdown: the dump back to the queue with its checkpoint, for another worker to resume. */
  private async handOff(dump: DumpHandle, log: Logger): Promise<RunResult> {
    const checkpoint = await dump.suspend();
    const gaps = this.hooks?.pending();
    const kept = await this.ctx.registry.suspend(
      this.dumpKey,
      this.runId,
      this.holder,
      checkpoint,
      dump.progress(),
      gaps,
    );
    if (kept) this.hooks?.recorded(gaps);
    log.info({ kept }, 'dump suspended for hand-off');
    // Taken over meanwhile (a Redis failover can make a live owner look dead): said as any loss is.
    if (!kept) log.error('dump lost at its hand-off: another owner or no record; stopped writing');
    return kept ? { outcome: 'suspended' } : { outcome: 'lost' };
  }

  /**
   * A dump that must not be started again: its runs kept dying with their workers, or its
   * checkpoint cannot be read. Error, and its Running infoFile says why.
   */
  private async endUnstarted(
    record: DumpRecord,
    failure: DumpFailureInfo,
    why: string,
  ): Promise<RunResult> {
    this.log.error({ crashes: record.crashes, error: failure }, why);
    if (record.infoFile !== undefined) {
      await failInfoFile(record.infoFile, failure.message).catch((error: unknown) =>
        this.log.warn({ err: (error as Error).message }, 'could not mark the infoFile Error'),
      );
    }
    return this.end('Error', { type: 'error', error: failure }, { error: failure });
  }

  /** The dump ended (by itself or stopped): record it, release it, tell the waiters. */
  private async ended(progress: DumpProgress, stopped: boolean): Promise<RunResult> {
    const state = progress.status === 'Error' ? 'Error' : 'Completed';
    const details = { progress, ...(progress.error && { error: progress.error }) };
    await this.end(
      state,
      {
        type: stopped || state === 'Completed' ? 'stopped' : 'error',
        state,
        ...(progress.error && { error: progress.error }),
      },
      details,
    );
    this.log.info(
      { state, stopped, files: progress.filesWritten, gaps: progress.gaps },
      'dump ended',
    );
    return { outcome: 'ended', state, stopped };
  }

  private async end(
    state: FinalState,
    event: RunEvent,
    details: { progress?: DumpProgress; error?: DumpFailureInfo } = {},
  ): Promise<RunResult> {
    // A withdrawn start tells no one: it never ran.
    const events =
      state === 'Withdrawn'
        ? undefined
        : this.hooks?.ending(state, details.progress, details.error);
    const finishing = this.ctx.registry.finish(this.dumpKey, this.runId, this.holder, state, {
      ...details,
      ...(events && { events }),
    });
    // Sent behind the finish on the one connection, without waiting a round trip between them:
    // Redis applies the finish before a waiter hears the event (which says the same either way).
    const published = this.publish({ ...event, state });
    const finished = await finishing;
    if (finished === 'OK' && state !== 'Withdrawn') {
      this.hooks?.recorded(events);
      this.hooks?.ended();
    }
    await published;
    if (state === 'Withdrawn') return { outcome: 'withdrawn' };
    if (this.phase === 'starting' && state === 'Error')
      return { outcome: 'failed', error: details.error ?? UNKNOWN_FAILURE };
    return { outcome: 'ended', state, stopped: false };
  }

  private async publish(event: RunEvent): Promise<void> {
    try {
      await publishDumpEvent(this.ctx.registry.redis, this.ctx.registry.keys, {
        ...event,
        dumpKey: this.dumpKey,
        runId: this.runId,
        owner: this.ctx.workerId,
      });
    } catch (error) {
      // The record says it too: a waiter that misses the event reads the record.
      this.log.warn({ err: (error as Error).message }, 'could not publish dump event');
    }
  }

  private setInterrupt(kind: Interrupt): void {
    // The first reason wins: a stop already finalizing is not turned into a hand-off.
    if (this.interrupt) return;
    this.interrupt = kind;
    this.wake();
  }

  // The heartbeat's handlers.

  private heartbeatReport(): { progress: DumpProgress | undefined } | undefined {
    if (this.phase !== 'starting' && this.phase !== 'running') return undefined;
    return { progress: this.phase === 'running' ? this.dump?.progress() : undefined };
  }

  private async heartbeatLost(gone: boolean): Promise<void> {
    if (gone && this.phase === 'running' && (await this.restoreRecord())) return;
    this.lease.markLost();
  }

  private async heartbeatConfirmed(
    sentAt: number,
    answer: { stopRequested: boolean; cancel: boolean },
  ): Promise<void> {
    this.lease.renew(sentAt);
    if (answer.cancel) this.cancel();
    if (answer.stopRequested) this.requestStop();
    await this.clearCrashesOnceHealthy();
  }

  /** Redis lost the record while the dump ran: written back as this worker's. */
  private async restoreRecord(): Promise<boolean> {
    if (!this.record || !this.dump) return false;
    const restored = await restoreLostRecord({
      registry: this.ctx.registry,
      holder: this.holder,
      record: this.record,
      checkpoint: this.dump.checkpoint(),
      requeue: this.ctx.requeue,
    });
    if (!restored) return false;
    this.lease.renew();
    this.log.warn('Redis had lost the dump record; written back');
    return true;
  }

  /** After `crashesClearedAfterMs` Running, the dump's past crashes no longer count against it. */
  private async clearCrashesOnceHealthy(): Promise<void> {
    const after = this.ctx.crashesClearedAfterMs;
    if (this.crashesBefore === 0 || after === undefined || this.phase !== 'running') return;
    if (Date.now() - this.runningSince < after) return;
    if (await this.ctx.registry.clearCrashes(this.dumpKey, this.runId, this.holder)) {
      this.log.info({ crashes: this.crashesBefore }, 'run healthy: crash count cleared');
      this.crashesBefore = 0;
    }
  }
}
