import { startReaderThread } from './reader-thread.ts';

export interface ChunklistPollResult {
  reads: number;
  /** Reads caught between the steps of an append. */
  midAppend: number;
  /** Reads that were not a valid VOD playlist listing only complete segments. */
  invalid: number;
  errors: string[];
  /** Per chunklist, every segment seen listed, in order, with its file's size when first seen. */
  seen: { uri: string; size: number }[][];
}

/**
 * Starts a reader thread polling these chunklists in a tight loop (test/support/chunklist-poller.mjs
 * says what each read is checked for); `stop()` reads them a last time and returns the tally.
 */
export function pollChunklists(paths: string[]): { stop: () => Promise<ChunklistPollResult> } {
  return startReaderThread(new URL('./chunklist-poller.mjs', import.meta.url), { paths });
}
