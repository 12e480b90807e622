import { Worker } from 'node:worker_threads';

/**
 * Runs a reader script (plain JavaScript: a worker thread cannot load the project's TypeScript)
 * in its own thread, so it reads files while the test's thread writes them. The script polls
 * until the shared `stopFlag` is set, then posts its tally once; `stop()` sets the flag and
 * returns that tally.
 */
export function startReaderThread<Tally>(
  script: URL,
  data: Record<string, unknown>,
): { stop: () => Promise<Tally> } {
  const stopFlag = new SharedArrayBuffer(4);
  const worker = new Worker(script, { workerData: { ...data, stopFlag } });
  const tally = new Promise<Tally>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      const value = await tally;
      await worker.terminate();
      return value;
    },
  };
}
