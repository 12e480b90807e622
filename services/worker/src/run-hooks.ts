import type { DumpFailureInfo, DumpRecord } from '@hlsdump/contracts';
import type { DumpProgress } from '@hlsdump/dump-engine';

/**
 * What a dump run tells the rest of the worker as its state changes: the events receivers get
 * (docs/api.md#events) and what a dump's end releases. Each call returns at once; whatever it does must
 * never hold the dump up.
 */
export interface RunHooks {
  running(progress: DumpProgress): void;
  gap(chunklist: string, msn: number, reason: string, progress: DumpProgress): void;
  /** Just before the registry records the end (Completed / Error). */
  ending(): void;
  ended(
    state: 'Completed' | 'Error',
    progress: DumpProgress | undefined,
    error?: DumpFailureInfo,
  ): void;
}

/** `resumed`: a run that continues a dump another worker (or this one) had running. */
export type RunHooksFactory = (record: DumpRecord, options: { resumed: boolean }) => RunHooks;
