import type {
  BatchedEvent,
  DumpFailureInfo,
  DumpNotification,
  DumpNotificationType,
  DumpRecord,
  EventBatch,
  OutputPathLocks,
} from '@hlsdump/contracts';
import type { RunHooks, RunHooksFactory } from './run-hooks.js';

export interface DumpNotifierOptions {
  /** Every dump's events also go here (`WEBHOOK_URL`). */
  webhookUrl?: string;
  /** Released when a dump ends, so the path is free at once for the next start. */
  outputPaths?: OutputPathLocks;
}

type EventBody = Omit<DumpNotification, 'sequence'>;
type PendingGap = { no: number; body: EventBody & { gap: NonNullable<EventBody['gap']> } };

/** What an event counts: the engine's progress, or the registry's snapshot of it. */
interface Counted {
  renditions: readonly { segments: number }[];
  bytesWritten: number;
  filesWritten: number;
  gaps: number;
  endReason?: string;
}

/**
 * Turns a run's state changes into the events its registry writes carry to the Redis outbox
 * (see EventOutbox): `running` with markRunning, each gap with the checkpoint save that records
 * it (or the hand-off, or the end), the end with finish. A gap stays pending until a write
 * carrying it went through, and goes with every write until then: one whose reply was lost is
 * sent again and appended once (the script knows its number).
 */
export class DumpNotifier {
  constructor(private readonly o: DumpNotifierOptions = {}) {}

  readonly hooks: RunHooksFactory = (record) => this.forRun(record);

  private targetsOf(record: DumpRecord): string[] {
    return [record.callbackUrl, this.o.webhookUrl].filter(
      (url): url is string => url !== undefined && url !== '',
    );
  }

  private forRun(record: DumpRecord): RunHooks {
    const targets = this.targetsOf(record);
    // A hand-off or takeover continues a dump that already ran: no new `running` to tell.
    const ran = record.runningAt !== undefined;
    let pending: PendingGap[] = [];
    let lastNo = 0;
    /** Gaps up to this number went out in a batch: fixed, never merged into any more. */
    let sentUpTo = 0;
    const batch = (extra: BatchedEvent[] = []): EventBatch | undefined => {
      if (targets.length === 0) return undefined;
      const gaps: BatchedEvent[] = pending.map(({ no, body }) => ({ kind: 'gap', no, body }));
      const events = [...gaps, ...extra];
      if (events.length === 0) return undefined;
      sentUpTo = lastNo;
      return { targets, events };
    };
    return {
      gap: (chunklist, msn, reason, progress) => {
        if (targets.length === 0) return;
        const body = this.body(record, 'gap', 'Running', progress, reason);
        // A stretch lost at once (the recorder marks it segment by segment, in one go) is one
        // event per rendition, as long as none of it went out yet.
        const last = pending.findLast((g) => g.body.gap.chunklist === chunklist);
        if (
          last &&
          last.no > sentUpTo &&
          last.body.reason === reason &&
          last.body.gap.msn + last.body.gap.count === msn
        ) {
          last.body.gap.count++;
          last.body.counts = body.counts;
          return;
        }
        pending.push({ no: ++lastNo, body: { ...body, gap: { chunklist, msn, count: 1 } } });
      },
      running: (progress) =>
        batch(
          ran ? [] : [{ kind: 'running', body: this.body(record, 'running', 'Running', progress) }],
        ),
      pending: () => batch(),
      ending: (state, progress, error) => {
        // Without the engine's figures (a poison dump never started again), the record's last.
        const counted = progress ?? record.progress;
        const reason = counted?.endReason ?? error?.message;
        const type = state === 'Completed' ? 'completed' : 'error';
        return batch([
          { kind: 'end', body: this.body(record, type, state, counted, reason, error) },
        ]);
      },
      recorded: (carried) => {
        const told = Math.max(
          0,
          ...(carried?.events ?? []).map((e) => (e.kind === 'gap' ? e.no : 0)),
        );
        pending = pending.filter((g) => g.no > told);
      },
      ended: () => {
        void this.o.outputPaths?.release(record.outputPath, record.runId).catch(() => undefined);
      },
    };
  }

  private body(
    record: DumpRecord,
    type: DumpNotificationType,
    status: DumpNotification['status'],
    progress: Counted | undefined,
    reason?: string,
    error?: DumpFailureInfo,
  ): EventBody {
    const renditions = progress?.renditions ?? [];
    return {
      type,
      id: record.id,
      vhost: record.vhost,
      app: record.app,
      stream: record.stream,
      outputStreamName: record.outputStreamName,
      runId: record.runId,
      status,
      counts: {
        segments: renditions.reduce((sum, r) => sum + r.segments, 0),
        bytes: progress?.bytesWritten ?? 0,
        files: progress?.filesWritten ?? 0,
        gaps: progress?.gaps ?? 0,
      },
      ...(reason !== undefined && { reason }),
      ...(record.userData !== undefined && { userData: record.userData }),
      time: new Date().toISOString(),
      ...(error !== undefined && { error }),
    };
  }
}
