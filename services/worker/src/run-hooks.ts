import type { DumpFailureInfo, DumpRecord, EventBatch } from '@hlsdump/contracts';
import type { DumpProgress } from '@hlsdump/dump-engine';

/**
 * What a dump run tells the rest of the worker as its state changes. The events receivers get
 * (docs/api.md#events) ride on the registry writes that make those changes, so a change and its event are
 * recorded in one step: the run asks for the batch a write carries, and says when the write
 * went through. Nothing here does I/O: it can never hold the dump up.
 */
export interface RunHooks {
  /** A gap: its event goes with the next registry write (the checkpoint save that records it). */
  gap(chunklist: string, msn: number, reason: string, progress: DumpProgress): void;
  /** For markRunning: the run's `running` (unless the dump ran before), and the gaps so far. */
  running(progress: DumpProgress): EventBatch | undefined;
  /** For a checkpoint save or a hand-off: the gap events not recorded yet. */
  pending(): EventBatch | undefined;
  /** For finish (Completed / Error): the gap events not recorded yet and the end. */
  ending(
    state: 'Completed' | 'Error',
    progress: DumpProgress | undefined,
    error?: DumpFailureInfo,
  ): EventBatch | undefined;
  /** The registry write carrying `batch` went through: its events are in the outbox. */
  recorded(batch: EventBatch | undefined): void;
  /** The dump ended (Completed / Error): what its end releases. */
  ended(): void;
}

export type RunHooksFactory = (record: DumpRecord) => RunHooks;
