import type { CreateDump } from './engine.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** Every dump the factory makes reports its writes, gaps, lag and status changes to the metrics. */
export function instrumentedDumpFactory(
  createDump: CreateDump,
  metrics: WorkerMetrics,
): CreateDump {
  return (request, options) => {
    const dump = createDump(request, options);
    dump.on((event) => metrics.observeDump(event, () => dump.progress()));
    return dump;
  };
}
