import type { Cluster, ClusterWorker, DumpStatusBody, StartedDump } from './cluster.ts';
import { waitFor } from './wait-for.ts';

/** The fewest segments any rendition of a dump has written: 0 before any rendition is listed. */
export function segmentsPerRendition(status: DumpStatusBody | undefined): number {
  return status && status.renditions.length > 0
    ? Math.min(...status.renditions.map((r) => r.segments))
    : 0;
}

/** What the status endpoint says of a started dump; undefined when it knows no such dump. */
export async function dumpStatus(
  cluster: Cluster,
  dump: StartedDump,
): Promise<DumpStatusBody | undefined> {
  return (await cluster.status(dump.vhost, dump.app, dump.stream, dump.id)).dump;
}

/**
 * Resolves once every rendition of the dump has written at least `count` segments, as the status
 * endpoint reports them; the failure carries the processes' recent output.
 */
export async function waitForSegments(
  cluster: Cluster,
  dump: StartedDump,
  count: number,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  await waitFor(
    `${dump.id} to record ${count} segments per rendition`,
    async () => segmentsPerRendition(await dumpStatus(cluster, dump)) >= count,
    { ...options, details: () => cluster.logs(4_000) },
  );
}

/** The worker process that owns the dump now, as the status endpoint names it. */
export async function dumpOwner(cluster: Cluster, dump: StartedDump): Promise<ClusterWorker> {
  const owner = (await dumpStatus(cluster, dump))?.owner;
  const worker = cluster.workers.find((w) => w.id === owner);
  if (!worker) throw new Error(`no worker owns ${dump.id} (${owner})`);
  return worker;
}
