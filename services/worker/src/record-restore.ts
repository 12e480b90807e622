import type { DumpRecord, DumpRegistry } from '@hlsdump/contracts';
import type { DumpCheckpoint } from '@hlsdump/dump-engine';

/**
 * Redis came back without the dump's record (restarted without persistence) while the dump kept
 * running: write it back as this worker's, with a watchdog job that lets another worker take it
 * over should this one die later. False when the registry refused (another record took its place).
 */
export async function restoreLostRecord(options: {
  registry: DumpRegistry;
  /** This run as the registry knows its holder (run-identity.ts). */
  holder: string;
  record: DumpRecord;
  checkpoint: DumpCheckpoint;
  /** Puts the watchdog job for the dump back in the queue. */
  requeue: ((record: DumpRecord) => Promise<void>) | undefined;
}): Promise<boolean> {
  const { registry, holder, record, checkpoint, requeue } = options;
  if (!(await registry.restore(record, holder, checkpoint))) return false;
  await requeue?.(record);
  return true;
}
