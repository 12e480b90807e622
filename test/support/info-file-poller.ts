import { Worker } from 'node:worker_threads';

export interface PollResult {
  reads: number;
  invalid: number;
  firstInvalid?: { error: unknown; tail: string };
}

/** Starts a reader thread polling the infoFile; `stop()` returns how many reads were invalid XML. */
export function pollInfoFile(path: string): { stop: () => Promise<PollResult> } {
  const stopFlag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./info-file-poller.mjs', import.meta.url), {
    workerData: { path, stopFlag },
  });
  const result = new Promise<PollResult>((resolve, reject) => {
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
