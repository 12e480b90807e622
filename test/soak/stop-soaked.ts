import { edge, renditionIds, soakedStatus, type SoakRun } from './soak-run.js';
import { sleep } from './soak-format.js';

/**
 * Stops every dump through the API, noting the origin's edge at the stop, then waits up to 30 s
 * per dump for its final status, which must be Completed.
 */
export async function stopSoakedDumps(run: SoakRun): Promise<void> {
  const { cluster, soaked, problems } = run;
  for (const d of soaked) {
    for (const r of renditionIds(d.stream)) d.edgeAtStop[r] = edge(d.stream, r);
    const t = Date.now();
    const stop = await cluster.stopDump({ stream: d.dump.stream, id: d.dump.id });
    d.stopStatus = stop.status;
    d.stopMs = Date.now() - t;
    if (stop.status !== 200)
      problems.push(`${d.dump.stream}: stop answered ${stop.status} ${JSON.stringify(stop.body)}`);
  }
  for (const d of soaked) {
    const until = Date.now() + 30_000;
    for (;;) {
      const s = await soakedStatus(cluster, d);
      if (s && s.status !== 'Running' && s.status !== 'Stopping') {
        d.final = s;
        break;
      }
      if (Date.now() > until) {
        d.final = s;
        break;
      }
      await sleep(250);
    }
    if (d.final?.status !== 'Completed')
      problems.push(
        `${d.dump.stream}: status ${d.final?.status ?? '(none)'} after the stop, not Completed`,
      );
  }
}
