import {
  publishDumpEvent,
  type DumpEventMessage,
  type DumpFailureInfo,
  type DumpRecord,
  type DumpRegistry,
  type FinalState,
} from '@hlsdump/contracts';
import type { DumpCheckpoint, DumpProgress, DumpRequest } from '@hlsdump/dump-engine';
import type { Logger } from 'pino';
import type { CreateDump, DumpHandle } from './engine.js';
import { failInfoFile, poisonFailure } from './poison-dump.js';
import type { RunHooks, RunHooksFactory } from './run-hooks.js';

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
  /** Puts a watchdog job for the dump back in the queue (after Redis lost the original). */
  requeue?: (record: DumpRecord) => Promise<void>;
  /** A dump taken over after this many runs in a row died with their worker ends in Error. */
  poisonAfterCrashes?: number;
  /** A run Running this long clears that count: the dump does not take its worker down. */
  crashesClearedAfterMs?: number;
  /** Told of the run's state changes (events for receivers, releases). */
  hooks?: RunHooksFactory;
}

/** Redis calls on the write path are skipped when it is away and never wait longer than this. */
const REGISTRY_CALL_TIMEOUT_MS = 1_000;

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

/**
 * One job's dump on this worker: claim it, start the engine, acknowledge, then run until it is
 * stopped (pub/sub or the durable flag), ends on its own, or is suspended for a hand-off.
 */
export class DumpRun {
  private dump: DumpHandle | undefined;
  private phase: 'claiming' | 'starting' | 'running' | 'ending' = 'claiming';
  private interrupt: Interrupt | undefined;
  private wake: () => void = () => {};
  private readonly interrupted = new Promise<void>((resolve) => (this.wake = resolve));
  private readonly startAbort = new AbortController();
  private cancelled = false;
  private lost = false;
  private heartbeatInFlight = false;
  /** Settles once the heartbeat in flight, if any, has. */
  private heartbeatSettled: Promise<void> = Promise.resolve();
  private record: DumpRecord | undefined;
  private hooks: RunHooks | undefined;
  /** Until then this worker's ownership counts as confirmed; after it, a write asks Redis first. */
  private leaseUntil = 0;
  private ownershipCheck: Promise<void> | undefined;
  private readonly log: Logger;
  private runningSince = 0;
  /** Runs in a row before this one that died with their worker, until this run clears them. */
  private crashesBefore = 0;

  constructor(
    private readonly ctx: RunContext,
    readonly dumpKey: string,
    readonly runId: string,
    jobSignal?: AbortSignal,
  ) {
    this.log = ctx.logger.child({ dumpKey, runId });
    // BullMQ's cancelJob: abort a start, stop a running dump.
    jobSignal?.addEventListener(
      'abort',
      () => (this.phase === 'running' ? this.requestStop() : this.cancel()),
      {
        once: true,
      },
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

  private setInterrupt(kind: Interrupt): void {
    // The first reason wins: a stop already finalizing is not turned into a hand-off.
    if (this.interrupt) return;
    this.interrupt = kind;
    this.wake();
  }

  async run(): Promise<RunResult> {
    const { registry, workerId } = this.ctx;
    const claim = await registry.claim(this.dumpKey, this.runId, workerId, this.ctx.staleAfterMs);
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
    this.renewLease();
    this.hooks = this.ctx.hooks?.(record);
    if (claim.previousOwner !== undefined) {
      this.log.warn(
        { previousOwner: claim.previousOwner, checkpoint: record.checkpoint !== undefined },
        'taking over a dump whose owner stopped heartbeating',
      );
      const limit = this.ctx.poisonAfterCrashes;
      if (limit !== undefined && (record.crashes ?? 0) >= limit) return this.endPoisoned(record);
    }
    const resumeFrom = record.checkpoint
      ? (JSON.parse(record.checkpoint) as DumpCheckpoint)
      : undefined;
    const log = (this.log as Logger).child({
      dumpId: record.id,
      outputStreamName: record.outputStreamName,
    });
    const dump = this.ctx.createDump(requestOf(record), {
      ...(resumeFrom && { resumeFrom }),
      beforeWrite: () => this.fence(),
      onCheckpoint: (checkpoint) => this.saveCheckpoint(checkpoint),
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
      else if (event.type === 'status')
        log.info({ status: event.status, error: event.error }, 'dump status');
    });
    // A stop recorded while the dump waited for a worker: resume, then finalize at once.
    if (record.stopRequested) this.requestStop();
    this.phase = 'starting';
    log.info({ resumed: resumeFrom !== undefined }, 'starting dump');
    try {
      try {
        await dump.start(this.startAbort.signal);
      } catch (error) {
        if (this.cancelled) return await this.end('Withdrawn', { type: 'withdrawn' });
        const failure = describe(error);
        log.warn({ error: failure }, 'dump could not start');
        return await this.end(
          'Error',
          { type: 'error', error: failure },
          { error: failure, progress: dump.progress() },
        );
      }
      // A start already withdrawn here is not told as running (it ends Withdrawn, told to no one).
      const running = this.cancelled ? undefined : this.hooks?.running(dump.progress());
      const marked = await registry.markRunning(this.dumpKey, this.runId, workerId, running);
      if (marked.outcome === 'CANCELLED' || (marked.outcome === 'OK' && this.cancelled)) {
        // Withdrawn between the files appearing and the acknowledgement: finalize them, report Withdrawn.
        const progress = await dump.stop();
        return await this.end('Withdrawn', { type: 'withdrawn' }, { progress });
      }
      if (marked.outcome === 'LOST') {
        this.lost = true;
        await dump.suspend();
        log.error({ state: marked.state }, 'dump lost before it was acknowledged');
        return { outcome: 'lost' };
      }
      this.hooks?.recorded(running);
      this.phase = 'running';
      this.runningSince = Date.now();
      // The renditions in the status at once, not only after the first heartbeat interval; a
      // periodic one still in flight from the start carries none, so this one waits for it.
      while (this.heartbeatInFlight) await this.heartbeatSettled;
      // Both commands leave now on the one connection, so Redis applies the heartbeat before the
      // gateway hears `running`, without waiting a round trip between them.
      const beat = this.heartbeat();
      await this.publish({ type: 'running' });
      await beat;
      log.info('dump running');
      if (marked.stopRequested) this.requestStop();

      const first = await Promise.race([
        dump.done.then((progress) => ({ kind: 'done' as const, progress })),
        this.interrupted.then(() => ({ kind: this.interrupt ?? ('stop' as const) })),
      ]);
      this.phase = 'ending';
      if (first.kind === 'done') return await this.ended(first.progress, false);
      if (first.kind === 'stop') {
        // Stopping is recorded while the engine finalizes; it is settled before `finish` is sent.
        const stopping = registry.markStopping(this.dumpKey, this.runId, workerId);
        stopping.catch(() => {}); // its failure is thrown below, once awaited
        const progress = await dump.stop();
        await stopping;
        return await this.ended(progress, true);
      }
      if (first.kind === 'lost') {
        await dump.suspend();
        log.error('dump lost: another owner or no record; stopped writing');
        return { outcome: 'lost' };
      }
      const checkpoint = await dump.suspend();
      const gaps = this.hooks?.pending();
      const kept = await registry.suspend(
        this.dumpKey,
        this.runId,
        workerId,
        checkpoint,
        dump.progress(),
        gaps,
      );
      if (kept) this.hooks?.recorded(gaps);
      log.info({ kept }, 'dump suspended for hand-off');
      return kept ? { outcome: 'suspended' } : { outcome: 'lost' };
    } finally {
      await dump.dispose?.().catch(() => {});
    }
  }

  /** Its runs kept dying with their workers: Error, without starting it again. */
  private async endPoisoned(record: DumpRecord): Promise<RunResult> {
    const failure = poisonFailure(record.crashes ?? 0);
    this.log.error({ crashes: record.crashes, error: failure }, 'poison dump: not started again');
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
    event: Omit<DumpEventMessage, 'dumpKey' | 'runId' | 'owner'>,
    details: { progress?: DumpProgress; error?: DumpFailureInfo } = {},
  ): Promise<RunResult> {
    // A withdrawn start tells no one: it never ran.
    const events =
      state === 'Withdrawn'
        ? undefined
        : this.hooks?.ending(state, details.progress, details.error);
    const finished = await this.ctx.registry.finish(
      this.dumpKey,
      this.runId,
      this.ctx.workerId,
      state,
      { ...details, ...(events && { events }) },
    );
    if (finished === 'OK' && state !== 'Withdrawn') {
      this.hooks?.recorded(events);
      this.hooks?.ended();
    }
    await this.publish({ ...event, state });
    if (state === 'Withdrawn') return { outcome: 'withdrawn' };
    if (this.phase === 'starting' && state === 'Error')
      return { outcome: 'failed', error: details.error ?? { code: 'UNKNOWN', message: 'unknown' } };
    return { outcome: 'ended', state, stopped: false };
  }

  private async publish(
    event: Omit<DumpEventMessage, 'dumpKey' | 'runId' | 'owner'>,
  ): Promise<void> {
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

  /**
   * The fence before every write. Within the lease the ownership confirmed by the last heartbeat
   * holds; past it (the worker was frozen, or cut off), Redis must confirm it first, so an owner
   * that comes back after another worker took the dump over stops instead of writing. While Redis
   * is unreachable the dump keeps writing: no other worker can take it over through Redis either.
   */
  private async fence(): Promise<void> {
    if (this.lost) throw new Error('this worker no longer owns the dump');
    if (Date.now() <= this.leaseUntil) return;
    this.ownershipCheck ??= this.confirmOwnership().finally(
      () => (this.ownershipCheck = undefined),
    );
    await this.ownershipCheck;
    if (this.lost) throw new Error('this worker no longer owns the dump');
  }

  private async confirmOwnership(): Promise<void> {
    const { registry, workerId } = this.ctx;
    const askedAt = Date.now();
    const owns = await this.registryCall(() => registry.owns(this.dumpKey, this.runId, workerId));
    if (owns === undefined) return;
    if (owns) this.renewLease(askedAt);
    else this.markLost();
  }

  /** Saved before each chunklist rewrite, so a new owner resumes exactly where this one was. */
  private async saveCheckpoint(checkpoint: DumpCheckpoint): Promise<void> {
    const { registry, workerId } = this.ctx;
    // The gaps this checkpoint records are told with it; until a save goes through they stay
    // pending and go with the next one.
    const gaps = this.hooks?.pending();
    const saved = await this.registryCall(() =>
      registry.saveCheckpoint(this.dumpKey, this.runId, workerId, checkpoint, gaps),
    );
    if (saved === true) this.hooks?.recorded(gaps);
    if (saved === false) this.markLost();
  }

  /** A registry call on the write path: undefined, at once, when Redis is not reachable. */
  private async registryCall<T>(call: () => Promise<T>): Promise<T | undefined> {
    if (this.ctx.registry.redis.status !== 'ready') return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), REGISTRY_CALL_TIMEOUT_MS);
        }),
      ]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counted from when the confirmation was asked, never from when its answer arrived. */
  private renewLease(confirmedAt = Date.now()): void {
    this.leaseUntil = Math.max(this.leaseUntil, confirmedAt + this.ctx.leaseMs);
  }

  private markLost(): void {
    this.lost = true;
    this.setInterrupt('lost');
  }

  /**
   * Redis came back without the record (restarted without persistence): the dump never stopped,
   * so write it back as this worker's, with a watchdog job that lets another worker take it over
   * should this one die later.
   */
  private async restoreRecord(): Promise<boolean> {
    if (!this.record || !this.dump) return false;
    const restored = await this.ctx.registry.restore(
      this.record,
      this.ctx.workerId,
      this.dump.checkpoint(),
    );
    if (!restored) return false;
    await this.ctx.requeue?.(this.record);
    this.renewLease();
    this.log.warn('Redis had lost the dump record; written back');
    return true;
  }

  /** After `crashesClearedAfterMs` Running, the dump's past crashes no longer count against it. */
  private async clearCrashesOnceHealthy(): Promise<void> {
    const after = this.ctx.crashesClearedAfterMs;
    if (this.crashesBefore === 0 || after === undefined || this.phase !== 'running') return;
    if (Date.now() - this.runningSince < after) return;
    if (await this.ctx.registry.clearCrashes(this.dumpKey, this.runId, this.ctx.workerId)) {
      this.log.info({ crashes: this.crashesBefore }, 'run healthy: crash count cleared');
      this.crashesBefore = 0;
    }
  }

  /** Progress to the registry; the durable stop and cancel flags back. */
  async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight || (this.phase !== 'starting' && this.phase !== 'running')) return;
    this.heartbeatInFlight = true;
    let settle = (): void => {};
    this.heartbeatSettled = new Promise((resolve) => (settle = resolve));
    const sentAt = Date.now();
    try {
      const progress = this.phase === 'running' ? this.dump?.progress() : undefined;
      const result = await this.ctx.registry.heartbeat(
        this.dumpKey,
        this.runId,
        this.ctx.workerId,
        progress,
      );
      if (result.outcome === 'LOST') {
        if (result.gone && this.phase === 'running' && (await this.restoreRecord())) return;
        this.markLost();
        return;
      }
      this.renewLease(sentAt);
      if (result.cancel) this.cancel();
      if (result.stopRequested) this.requestStop();
      await this.clearCrashesOnceHealthy();
    } catch (error) {
      // Redis away: the dump keeps writing; the next heartbeat tries again.
      this.log.warn({ err: (error as Error).message }, 'heartbeat failed');
    } finally {
      this.heartbeatInFlight = false;
      settle();
    }
  }
}

function requestOf(record: DumpRecord): DumpRequest {
  const request: DumpRequest = {
    originBaseUrl: record.originBaseUrl,
    playlists: record.playlists,
    outputPath: record.outputPath,
    streamName: `/${record.vhost}/${record.app}/${record.outputStreamName}`,
  };
  if (record.infoFile !== undefined) request.infoFile = record.infoFile;
  if (record.userData !== undefined) request.userData = record.userData;
  if (record.originHeaders !== undefined || record.originCaFile !== undefined) {
    request.origin = {
      ...(record.originHeaders && { headers: record.originHeaders }),
      ...(record.originCaFile !== undefined && { caFile: record.originCaFile }),
    };
  }
  if (record.maxDurationSeconds !== undefined)
    request.maxDurationSeconds = record.maxDurationSeconds;
  if (record.from !== undefined) request.from = record.from;
  return request;
}

function describe(error: unknown): DumpFailureInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}
