/**
 * Node's own flags for the worker process, wherever it is started: `npm run start:worker`, the
 * image (its NODE_FLAGS build argument), `npm start`'s child, and the tests' and the bench's
 * clusters. They go on the command line: V8 reads them once, as the process starts.
 *
 * `--single-threaded-gc`: V8 collects on the JavaScript thread instead of handing marking,
 * sweeping and scavenges to helper threads. A worker's heap is small and steady, so the pauses
 * stay far below a part, and the helper threads' hand-offs cost more CPU than they save (a worker
 * with it beside one without, on the same streams: bench/results/performance-2026-12-01.md).
 *
 * `--heap-growing-percent=100`: after a full collection the old generation may grow by its live
 * size before the next. V8 sizes that room by how fast the process allocates against how fast it
 * collects, over wall time; a worker waits on the network most of the time, so it looks slow to
 * allocate, and V8 gave it room for about half its live heap. A busy worker, whose held reloads
 * age into the old generation, then marked its whole heap about once a second. With the room
 * fixed at the live size it does so half as often, and spends ×0.69–0.74 the CPU at 450
 * renditions, beside a worker without it (the same results file, fourteenth pass).
 */
export const WORKER_NODE_FLAGS: readonly string[] = [
  '--single-threaded-gc',
  '--heap-growing-percent=100',
];
