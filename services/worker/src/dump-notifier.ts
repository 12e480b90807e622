import type {
  DumpFailureInfo,
  DumpNotification,
  DumpNotificationType,
  DumpRecord,
  EventOutbox,
  OutputPathLocks,
} from '@hlsdump/contracts';
import type { DumpProgress } from '@hlsdump/dump-engine';
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

  private forRun(record: DumpRecord, resumed: boolean): RunHooks {
    const targets = [record.callbackUrl, this.o.webhookUrl].filter(
      (url): url is string => url !== undefined && url !== '',
    );
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
    return {
      running: (progress) => {
        // A resumed run (hand-off, takeover) changes no state a receiver sees: it was Running.
        if (!resumed) send(this.body(record, 'running', 'Running', progress));
        told = true;
        for (const body of held.splice(0)) send(body);
      },
      gap: (chunklist, msn, reason, progress) =>
        send({ ...this.body(record, 'gap', 'Running', progress, reason), gap: { chunklist, msn } }),
      ended: (state, progress, error) => {
        told = true;
        for (const body of held.splice(0)) send(body);
        const reason = progress?.endReason ?? error?.message;
        send(
          this.body(
            record,
            state === 'Completed' ? 'completed' : 'error',
            state,
            progress,
            reason,
            error,
          ),
        );
        void this.o.outputPaths?.release(record.outputPath, record.runId).catch(() => undefined);
      },
    };
  }

  private append(record: DumpRecord, body: EventBody, targets: string[]): void {
    this.tail = this.tail.then(async () => {
      try {
        const sequence = await this.o.outbox.enqueue(record.dumpKey, body, targets);
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
    progress: DumpProgress | undefined,
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
