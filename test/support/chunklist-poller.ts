import { Worker } from 'node:worker_threads';

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
  const stopFlag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./chunklist-poller.mjs', import.meta.url), {
    workerData: { paths, stopFlag },
  });
  const result = new Promise<ChunklistPollResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      const value = await result;
      await worker.terminate();
      return value;
    },
  };
}
