import type { Redis } from 'ioredis';
import { DuplicateIdError, DuplicateInfoFileError, ProtocolError } from './errors.js';
import { registryKeys, type RegistryKeys } from './keys.js';
import {
  isHeldState,
  recordFromHash,
  startParamsToFields,
  type DumpFailureInfo,
  type DumpRecord,
  type DumpStartParams,
  type DumpState,
  type FinalState,
  type ProgressSnapshot,
} from './dump-record.js';
import {
  claimScript,
  finishScript,
  heartbeatScript,
  heartbeatsScript,
  markRunningScript,
  markStoppingScript,
  requestStopScript,
  reserveScript,
  restoreScript,
  saveCheckpointScript,
  stopAndTellScript,
  suspendScript,
  withdrawScript,
  type ScriptDefinition,
} from './registry-scripts.js';
import { clearCrashesScript } from './crash-count-scripts.js';
import { outboxArgument, type EventBatch } from './event-outbox.js';
import { holderOf } from './run-identity.js';
import type { DumpIdentity } from './dump-identity.js';

type ScriptReply = string | (string | null)[];

/** A heartbeat waiting to go out with the others of its worker (see heartbeats()). */
interface PendingBeat {
  dumpKey: string;
  runId: string;
  owner: string;
  progress: ProgressSnapshot | undefined;
  resolve: (result: HeartbeatResult) => void;
  reject: (error: unknown) => void;
}

/** Dumps per heartbeats call: bounds how long one call holds Redis. */
const BEATS_PER_CALL = 100;
type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<ScriptReply>;

const SCRIPTS = {
  hlsdumpReserve: reserveScript,
  hlsdumpClaim: claimScript,
  hlsdumpMarkRunning: markRunningScript,
  hlsdumpWithdraw: withdrawScript,
  hlsdumpHeartbeat: heartbeatScript,
  hlsdumpMarkStopping: markStoppingScript,
  hlsdumpFinish: finishScript,
  hlsdumpRequestStop: requestStopScript,
  hlsdumpStopAndTell: stopAndTellScript,
  hlsdumpSuspend: suspendScript,
  hlsdumpSaveCheckpoint: saveCheckpointScript,
  hlsdumpRestore: restoreScript,
  hlsdumpClearCrashes: clearCrashesScript,
} satisfies Record<string, ScriptDefinition>;
type ScriptName = keyof typeof SCRIPTS;

export type ClaimResult =
  /** `previousOwner` is set when the dump was taken over from a worker that stopped heartbeating. */
  | { ok: true; record: DumpRecord; previousOwner?: string }
  /**
   * Another worker owns it and is alive: the job was redelivered too early. `staleInMs`: when its
   * heartbeat, unless renewed, will be old enough for a takeover.
   */
  | { ok: false; reason: 'OWNED'; state?: DumpState; owner: string; staleInMs: number }
  | { ok: false; reason: 'GONE' | 'STALE' | 'NOT_QUEUED'; state?: DumpState };

export type MarkRunningResult =
  | { outcome: 'OK'; stopRequested: boolean }
  | { outcome: 'CANCELLED' }
  | { outcome: 'LOST'; state?: string };

export type WithdrawResult =
  | { outcome: 'WITHDRAWN' }
  | { outcome: 'CANCELLING'; owner: string }
  | { outcome: 'GONE' }
  | { outcome: 'STALE' }
  /** The dump got further than the gateway knew (Running, or even ended). */
  | { outcome: 'PROGRESSED'; state: DumpState; owner: string };

export type HeartbeatResult =
  | { outcome: 'OK'; stopRequested: boolean; cancel: boolean }
  /** `gone`: no record at all (Redis lost it), as opposed to another owner or an ended dump. */
  | { outcome: 'LOST'; gone: boolean };

export type RequestStopResult =
  | { outcome: 'STOPPED_QUEUED'; runId: string; jobId: string }
  | { outcome: 'PENDING'; runId: string; jobId: string }
  | { outcome: 'REQUESTED'; runId: string; jobId: string; owner: string }
  | { outcome: 'ENDED'; runId: string; state: DumpState }
  | { outcome: 'GONE' };

/** stopAndTell's answer: requestStop's, or INACTIVE (the id was not active; nothing was done). */
export type StopAndTellResult = RequestStopResult | { outcome: 'INACTIVE' };

export type FinishResult = 'OK' | 'GONE' | 'STALE' | 'LOST' | 'ALREADY';

export interface DumpRegistryOptions {
  prefix?: string;
  /** How long an ended dump's record stays readable by the status endpoints. */
  recordTtlSeconds?: number;
  now?: () => number;
}

export const DEFAULT_RECORD_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Who owns which dump, in Redis. Every transition is one Lua script (see registry-scripts.ts);
 * reads are plain commands. Both the gateway and the workers use it, each over its own connection.
 */
export class DumpRegistry {
  readonly keys: RegistryKeys;
  private readonly ttl: number;
  private readonly now: () => number;
  /** Set while heartbeats() gathers: heartbeat() joins it instead of sending. */
  private gathering: PendingBeat[] | undefined;

  constructor(
    readonly redis: Redis,
    options: DumpRegistryOptions = {},
  ) {
    this.keys = registryKeys(options.prefix);
    this.ttl = options.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS;
    this.now = options.now ?? Date.now;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      // defineCommand is idempotent per connection; ioredis uses EVALSHA and falls back to EVAL.
      redis.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    redis.defineCommand('hlsdumpHeartbeats', { lua: heartbeatsScript.lua });
  }

  private run(name: ScriptName, ...keysAndArgs: (string | number)[]): Promise<ScriptReply> {
    const command = (this.redis as unknown as Record<ScriptName, ScriptCommand>)[name];
    return command.call(this.redis, ...keysAndArgs);
  }

  /** Records a new dump as Queued; throws DuplicateIdError / DuplicateInfoFileError. */
  async reserve(
    params: DumpStartParams & { dumpKey: string; runId: string; jobId: string },
  ): Promise<void> {
    const fields = Object.entries(startParamsToFields(params)).flat();
    const reply = await this.run(
      'hlsdumpReserve',
      this.keys.dump(params.dumpKey),
      this.keys.active(params.vhost, params.app, params.outputStreamName),
      this.keys.infoFiles(),
      this.keys.dumps(),
      params.dumpKey,
      params.id,
      params.infoFile ?? '',
      this.now(),
      params.runId,
      params.jobId,
      ...fields,
    );
    if (reply === 'DUPLICATE_ID') throw new DuplicateIdError(params.id);
    if (reply === 'DUPLICATE_INFO_FILE') throw new DuplicateInfoFileError(params.infoFile ?? '');
    if (reply !== 'OK') throw new ProtocolError(`reserve answered ${String(reply)}`);
  }

  /**
   * Queued → Starting for `owner`, or a takeover of a dump whose owner has not heartbeaten for
   * `staleAfterMs`; anything else means the job must be dropped (or, OWNED, retried later).
   */
  async claim(
    dumpKey: string,
    runId: string,
    owner: string,
    staleAfterMs = Number.MAX_SAFE_INTEGER,
  ): Promise<ClaimResult> {
    const now = this.now();
    const [outcome, a, b, c] = asArray(
      await this.run(
        'hlsdumpClaim',
        this.keys.dump(dumpKey),
        runId,
        owner,
        now,
        now - staleAfterMs,
      ),
    );
    if (outcome === 'OWNED') {
      const staleInMs = Math.max(0, Number(c) + staleAfterMs - now);
      return { ok: false, reason: 'OWNED', state: a as DumpState, owner: b ?? '', staleInMs };
    }
    if (outcome !== 'OK' && outcome !== 'TAKEOVER') {
      const reason = outcome === 'STALE' || outcome === 'NOT_QUEUED' ? outcome : 'GONE';
      return a ? { ok: false, reason, state: a as DumpState } : { ok: false, reason };
    }
    const record = await this.get(dumpKey);
    if (!record) return { ok: false, reason: 'GONE' };
    return outcome === 'TAKEOVER'
      ? { ok: true, record, previousOwner: a ?? '' }
      : { ok: true, record };
  }

  /**
   * The running dump's latest checkpoint, with the events of the gaps it records (appended in
   * the same step); false when `owner` no longer owns it.
   */
  async saveCheckpoint(
    dumpKey: string,
    runId: string,
    owner: string,
    checkpoint: unknown,
    events?: EventBatch,
  ): Promise<boolean> {
    const now = this.now();
    const reply = await this.run(
      'hlsdumpSaveCheckpoint',
      this.keys.dump(dumpKey),
      runId,
      owner,
      now,
      JSON.stringify(checkpoint),
      this.eventsArgument(dumpKey, now, events),
    );
    return reply === 'OK';
  }

  /**
   * Whether `owner` (a run identity, see run-identity.ts) still owns the dump's run: the fence a
   * worker checks before writing.
   */
  async owns(dumpKey: string, runId: string, owner: string): Promise<boolean> {
    const [state, recordRunId, recordOwner, claim] = await this.redis.hmget(
      this.keys.dump(dumpKey),
      'state',
      'runId',
      'owner',
      'claim',
    );
    return recordRunId === runId && holderOf(recordOwner, claim) === owner && isHeldState(state);
  }

  /**
   * Writes back the record of a dump this worker is still running after Redis lost it (a
   * restart without persistence). False when a record exists: then it is not ours to rewrite.
   */
  async restore(record: DumpRecord, owner: string, checkpoint: unknown): Promise<boolean> {
    const fields = Object.entries(startParamsToFields(record)).flat();
    const reply = await this.run(
      'hlsdumpRestore',
      this.keys.dump(record.dumpKey),
      this.keys.active(record.vhost, record.app, record.outputStreamName),
      this.keys.infoFiles(),
      this.keys.dumps(),
      record.dumpKey,
      record.id,
      record.infoFile ?? '',
      this.now(),
      record.runId,
      record.jobId,
      owner,
      'Running',
      checkpoint === undefined ? '' : JSON.stringify(checkpoint),
      ...fields,
    );
    return reply === 'OK';
  }

  /** Starting → Running, with its `running` event (appended in the same step). */
  async markRunning(
    dumpKey: string,
    runId: string,
    owner: string,
    events?: EventBatch,
  ): Promise<MarkRunningResult> {
    const now = this.now();
    const [outcome, extra] = asArray(
      await this.run(
        'hlsdumpMarkRunning',
        this.keys.dump(dumpKey),
        runId,
        owner,
        now,
        this.eventsArgument(dumpKey, now, events),
      ),
    );
    if (outcome === 'OK') return { outcome, stopRequested: extra === '1' };
    if (outcome === 'CANCELLED') return { outcome };
    return extra ? { outcome: 'LOST', state: extra } : { outcome: 'LOST' };
  }

  /** The start request gave up: the dump must never start later. */
  async withdraw(dumpKey: string, runId: string): Promise<WithdrawResult> {
    const [outcome, extra] = asArray(
      await this.run(
        'hlsdumpWithdraw',
        this.keys.dump(dumpKey),
        this.keys.infoFiles(),
        runId,
        this.now(),
        this.ttl,
        dumpKey,
      ),
    );
    switch (outcome) {
      case 'WITHDRAWN':
      case 'GONE':
      case 'STALE':
        return { outcome };
      case 'CANCELLING':
        return { outcome, owner: extra ?? '' };
      default:
        return { outcome: 'PROGRESSED', state: outcome as DumpState, owner: extra ?? '' };
    }
  }

  /** Progress of a running dump, and its durable flags back; inside heartbeats(), sent with the others. */
  async heartbeat(
    dumpKey: string,
    runId: string,
    owner: string,
    progress?: ProgressSnapshot,
  ): Promise<HeartbeatResult> {
    const gathering = this.gathering;
    if (gathering) {
      return new Promise((resolve, reject) =>
        gathering.push({ dumpKey, runId, owner, progress, resolve, reject }),
      );
    }
    return heartbeatResult(
      asArray(
        await this.run(
          'hlsdumpHeartbeat',
          this.keys.dump(dumpKey),
          this.keys.workers(),
          runId,
          owner,
          this.now(),
          progress ? JSON.stringify(progress) : '',
        ),
      ),
    );
  }

  /**
   * A worker's periodic heartbeats in one round trip (per BEATS_PER_CALL dumps), not one per
   * dump: every heartbeat() that `beatAll` makes before it first awaits goes into one script,
   * which checks each dump's holder on its own exactly as a single heartbeat does, and renews
   * `workerId` in the workers set (workerAlive) with them. A heartbeat made later goes alone.
   * Resolves once `beatAll` has; a call that fails rejects the heartbeats it carried.
   */
  async heartbeats(workerId: string, beatAll: () => Promise<unknown>): Promise<void> {
    const beats: PendingBeat[] = [];
    this.gathering = beats;
    let beating: Promise<unknown>;
    try {
      beating = beatAll();
    } finally {
      this.gathering = undefined;
    }
    const now = this.now();
    const calls: Promise<void>[] = [];
    if (beats.length === 0) calls.push(this.workerAlive(workerId).catch(() => undefined));
    for (let i = 0; i < beats.length; i += BEATS_PER_CALL)
      calls.push(this.sendBeats(workerId, now, beats.slice(i, i + BEATS_PER_CALL)));
    await Promise.all([...calls, beating]);
  }

  private async sendBeats(workerId: string, now: number, beats: PendingBeat[]): Promise<void> {
    try {
      const command = (this.redis as unknown as Record<string, ScriptCommand>)[
        'hlsdumpHeartbeats'
      ]!;
      const replies = (await command.call(
        this.redis,
        1 + beats.length,
        this.keys.workers(),
        ...beats.map((beat) => this.keys.dump(beat.dumpKey)),
        now,
        workerId,
        ...beats.flatMap((beat) => [
          beat.runId,
          beat.owner,
          beat.progress ? JSON.stringify(beat.progress) : '',
        ]),
      )) as unknown as (string | null)[][];
      beats.forEach((beat, i) => beat.resolve(heartbeatResult(asArray(replies[i] ?? []))));
    } catch (error) {
      for (const beat of beats) beat.reject(error);
    }
  }

  async markStopping(dumpKey: string, runId: string, owner: string): Promise<boolean> {
    return (
      (await this.run('hlsdumpMarkStopping', this.keys.dump(dumpKey), runId, owner, this.now())) ===
      'OK'
    );
  }

  /**
   * Ends a dump (Completed / Error / Withdrawn) and releases its id and infoFile; its end event,
   * if given, is appended in the same step.
   */
  async finish(
    dumpKey: string,
    runId: string,
    owner: string | null,
    state: FinalState,
    details: { progress?: ProgressSnapshot; error?: DumpFailureInfo; events?: EventBatch } = {},
  ): Promise<FinishResult> {
    const now = this.now();
    const reply = await this.run(
      'hlsdumpFinish',
      this.keys.dump(dumpKey),
      this.keys.infoFiles(),
      runId,
      owner ?? '',
      state,
      now,
      details.progress ? JSON.stringify(details.progress) : '',
      details.error ? JSON.stringify(details.error) : '',
      this.ttl,
      dumpKey,
      this.eventsArgument(dumpKey, now, details.events),
    );
    return reply as FinishResult;
  }

  /**
   * Records a stop durably and tells no one: the stop as the record alone carries it, when its
   * message is lost (the owner finds it in a heartbeat's answer). The gateway's stop is stopAndTell.
   */
  async requestStop(dumpKey: string): Promise<RequestStopResult> {
    return requestStopResult(
      asArray(
        await this.run(
          'hlsdumpRequestStop',
          this.keys.dump(dumpKey),
          this.keys.infoFiles(),
          this.now(),
          this.ttl,
          dumpKey,
        ),
      ),
    );
  }

  /**
   * The gateway's stop in one round trip: requestStop, and in the same atomic step, after the
   * durable write, whoever waits on the dump is told: a REQUESTED dump's owner gets its `stop`
   * control message, a STOPPED_QUEUED dump's start request its `withdrawn` event. `ifActive`:
   * only if `dump.id` is active on its output stream (isActive), else INACTIVE and nothing done.
   */
  async stopAndTell(
    dumpKey: string,
    dump: DumpIdentity,
    { ifActive = false }: { ifActive?: boolean } = {},
  ): Promise<StopAndTellResult> {
    const reply = asArray(
      await this.run(
        'hlsdumpStopAndTell',
        this.keys.dump(dumpKey),
        this.keys.infoFiles(),
        this.keys.active(dump.vhost, dump.app, dump.outputStreamName),
        this.now(),
        this.ttl,
        dumpKey,
        ifActive ? dump.id : '',
        this.keys.worker(''),
        this.keys.events(dumpKey),
      ),
    );
    return reply[0] === 'INACTIVE' ? { outcome: 'INACTIVE' } : requestStopResult(reply);
  }

  /** Hand-off: back to Queued with the checkpoint, for the next worker to resume. */
  async suspend(
    dumpKey: string,
    runId: string,
    owner: string,
    checkpoint: unknown,
    progress?: ProgressSnapshot,
    events?: EventBatch,
  ): Promise<boolean> {
    const now = this.now();
    const reply = await this.run(
      'hlsdumpSuspend',
      this.keys.dump(dumpKey),
      runId,
      owner,
      now,
      JSON.stringify(checkpoint),
      progress ? JSON.stringify(progress) : '',
      this.eventsArgument(dumpKey, now, events),
    );
    return reply === 'OK';
  }

  /** The run proved healthy: its dump's count of runs that died with their worker goes to zero. */
  async clearCrashes(dumpKey: string, runId: string, owner: string): Promise<boolean> {
    return (await this.run('hlsdumpClearCrashes', this.keys.dump(dumpKey), runId, owner)) === 'OK';
  }

  /** A script's events argument: '' when there is nothing to tell or no one to tell it to. */
  private eventsArgument(dumpKey: string, now: number, batch: EventBatch | undefined): string {
    if (!batch || batch.events.length === 0 || batch.targets.length === 0) return '';
    return outboxArgument(this.keys, dumpKey, batch.targets, now, batch.events);
  }

  async get(dumpKey: string): Promise<DumpRecord | null> {
    return recordFromHash(dumpKey, await this.redis.hgetall(this.keys.dump(dumpKey)));
  }

  async isActive(
    vhost: string,
    app: string,
    outputStreamName: string,
    id: string,
  ): Promise<boolean> {
    return (await this.redis.sismember(this.keys.active(vhost, app, outputStreamName), id)) === 1;
  }

  /** The dumpKey of the active dump holding this infoFile, if any. */
  async infoFileHolder(infoFile: string): Promise<string | null> {
    return this.redis.hget(this.keys.infoFiles(), infoFile);
  }

  async activeIds(vhost: string, app: string, outputStreamName: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.active(vhost, app, outputStreamName))).sort();
  }

  /** Every known dump (active, and ended ones whose record has not expired yet). */
  async list(): Promise<DumpRecord[]> {
    const dumpKeys = await this.redis.smembers(this.keys.dumps());
    if (dumpKeys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const dumpKey of dumpKeys) pipeline.hgetall(this.keys.dump(dumpKey));
    const replies = (await pipeline.exec()) ?? [];
    const records: DumpRecord[] = [];
    const expired: string[] = [];
    replies.forEach(([error, hash], index) => {
      const dumpKey = dumpKeys[index];
      if (error || dumpKey === undefined) return;
      const record = recordFromHash(dumpKey, hash as Record<string, string>);
      if (record) records.push(record);
      else expired.push(dumpKey);
    });
    // Records expire on their own; their index entries are pruned lazily here.
    if (expired.length > 0) await this.redis.srem(this.keys.dumps(), ...expired);
    return records.sort((a, b) => a.createdAt - b.createdAt);
  }

  async workerAlive(workerId: string): Promise<void> {
    await this.redis.zadd(this.keys.workers(), this.now(), workerId);
  }

  async workerGone(workerId: string): Promise<void> {
    await this.redis.zrem(this.keys.workers(), workerId);
  }
}

/** A requestStop script's reply. */
function requestStopResult([outcome, a, b, c]: (string | undefined)[]): RequestStopResult {
  const runId = a ?? '';
  switch (outcome) {
    case 'STOPPED_QUEUED':
    case 'PENDING':
      return { outcome, runId, jobId: b ?? '' };
    case 'REQUESTED':
      return { outcome, runId, jobId: b ?? '', owner: c ?? '' };
    case 'ENDED':
      return { outcome, runId, state: b as DumpState };
    default:
      return { outcome: 'GONE' };
  }
}

/** A heartbeat script's reply for one dump. */
function heartbeatResult([outcome, stop, cancel]: (string | undefined)[]): HeartbeatResult {
  if (outcome !== 'OK') return { outcome: 'LOST', gone: !stop };
  return { outcome, stopRequested: stop === '1', cancel: cancel === '1' };
}

function asArray(reply: ScriptReply): (string | undefined)[] {
  if (!Array.isArray(reply)) return [reply];
  return reply.map((value) => (value === null ? undefined : String(value)));
}
