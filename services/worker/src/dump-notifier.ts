import type {
  DumpFailureInfo,
  DumpNotification,
  DumpNotificationType,
  DumpRecord,
  DumpRegistry,
  EventOutbox,
  OutputPathLocks,
} from '@hlsdump/contracts';
import type { Logger } from 'pino';
import type { RunHooks, RunHooksFactory } from './run-hooks.js';

export interface DumpNotifierOptions {
  outbox: EventOutbox;
  /** Every dump's events also go here (`WEBHOOK_URL`). */
  webhookUrl?: string;
  /** Released when a dump ends, so the path is free at once for the next start. */
  outputPaths?: OutputPathLocks;
  logger: Logger;
}

type EventBody = Omit<DumpNotification, 'sequence'>;

/** What an event counts: the engine's progress, or the registry's snapshot of it. */
interface Counted {
  renditions: readonly { segments: number }[];
  bytesWritten: number;
  filesWritten: number;
  gaps: number;
  endReason?: string;
}

/**
 * Turns a run's state changes into events in the Redis outbox, for the deliverers to send. The
 * appends of one run go one after another (never two in flight), so the outbox numbers them in
 * the order they happened; the dump never waits for them.
 */
export class DumpNotifier {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly o: DumpNotifierOptions) {}

  readonly hooks: RunHooksFactory = (record, { resumed }) => this.forRun(record, resumed);

  /** Resolves once every event noticed so far is in the outbox (or was logged as lost). */
  flush(): Promise<void> {
    return this.tail;
  }

  /**
   * Appends the end event of runs whose worker died between recording the end and appending
   * its event (noted by `ending`, see EventOutbox.expectEnd), from the registry's record. Safe to
   * run anywhere at any time: a run's end is appended once, whoever gets there first.
   */
  async sweep(registry: DumpRegistry, olderThanMs = 10_000): Promise<number> {
    let told = 0;
    for (const { dumpKey, runId } of await this.o.outbox.overdueEnds(olderThanMs)) {
      const record = await registry.get(dumpKey);
      const targets = record ? this.targetsOf(record) : [];
      if (!record || record.runId !== runId || record.state === 'Withdrawn' || !targets.length) {
        await this.o.outbox.forgetEnd(dumpKey, runId);
        continue;
      }
      // Still active: it was resumed, and its new owner tells the end.
      if (record.state !== 'Completed' && record.state !== 'Error') continue;
      const progress = record.progress;
      const body = this.body(
        record,
        record.state === 'Completed' ? 'completed' : 'error',
        record.state,
        progress,
        progress?.endReason ?? record.error?.message,
        record.error,
      );
      body.time = new Date(record.endedAt ?? Date.now()).toISOString();
      if ((await this.o.outbox.enqueue(dumpKey, body, targets, runId)) > 0) told++;
    }
    return told;
  }

  private targetsOf(record: DumpRecord): string[] {
    return [record.callbackUrl, this.o.webhookUrl].filter(
      (url): url is string => url !== undefined && url !== '',
    );
  }

  private forRun(record: DumpRecord, resumed: boolean): RunHooks {
    const targets = this.targetsOf(record);
    // A gap found before the run is acknowledged is told after its `running`, not before.
    let told = resumed;
    const held: EventBody[] = [];
    const send = (body: EventBody): void => {
      if (targets.length === 0) return;
      if (!told && body.type === 'gap') {
        held.push(body);
        return;
      }
      this.append(record, body, targets);
    };
    // Gaps noticed in one go (the recorder marks a lost stretch segment by segment, at once) are
    // merged per rendition into one event, sent once the current turn of the event loop is over.
    let gaps: EventBody[] = [];
    const sendGaps = (): void => {
      const merged = gaps;
      gaps = [];
      for (const body of merged) send(body);
    };
    return {
      running: (progress) => {
        sendGaps();
        // A resumed run (hand-off, takeover) changes no state a receiver sees: it was Running.
        if (!resumed) send(this.body(record, 'running', 'Running', progress));
        told = true;
        for (const body of held.splice(0)) send(body);
      },
      gap: (chunklist, msn, reason, progress) => {
        const body = this.body(record, 'gap', 'Running', progress, reason);
        const last = gaps.findLast((g) => g.gap?.chunklist === chunklist);
        if (last?.gap && last.reason === reason && last.gap.msn + last.gap.count === msn) {
          last.gap.count++;
          last.counts = body.counts;
          return;
        }
        if (gaps.length === 0) setImmediate(sendGaps);
        gaps.push({ ...body, gap: { chunklist, msn, count: 1 } });
      },
      ending: () => {
        sendGaps();
        // Issued now, on the connection the registry's end goes over next: Redis sees it first.
        if (targets.length > 0)
          void this.o.outbox.expectEnd(record.dumpKey, record.runId).catch(() => undefined);
      },
      ended: (state, progress, error) => {
        told = true;
        for (const body of held.splice(0)) send(body);
        sendGaps();
        const reason = progress?.endReason ?? error?.message;
        if (targets.length > 0)
          this.append(
            record,
            this.body(
              record,
              state === 'Completed' ? 'completed' : 'error',
              state,
              progress,
              reason,
              error,
            ),
            targets,
            record.runId,
          );
        void this.o.outputPaths?.release(record.outputPath, record.runId).catch(() => undefined);
      },
    };
  }

  private append(record: DumpRecord, body: EventBody, targets: string[], endOf?: string): void {
    this.tail = this.tail.then(async () => {
      try {
        const sequence = await this.o.outbox.enqueue(record.dumpKey, body, targets, endOf);
        this.o.logger.debug({ dumpKey: record.dumpKey, type: body.type, sequence }, 'event queued');
      } catch (error) {
        this.o.logger.error(
          { dumpKey: record.dumpKey, type: body.type, err: (error as Error).message },
          'could not queue a dump event',
        );
      }
    });
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
