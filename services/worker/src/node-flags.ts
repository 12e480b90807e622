/**
 * Node's own flags for the worker process, wherever it is started: `npm run start:worker`, the
 * image (its NODE_FLAGS build argument), `npm start`'s child, and the tests' and the bench's
 * clusters. They go on the command line: V8 reads them once, as the process starts.
 *
 * `--single-threaded-gc`: V8 collects on the JavaScript thread instead of handing marking,
 * sweeping and scavenges to helper threads. A worker's heap is small and steady, so the pauses
 * stay far below a part, and the helper threads' hand-offs cost more CPU than they save (a worker
 * with it beside one without, on the same streams: bench/results/performance-2026-12-01.md).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
