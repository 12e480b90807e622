import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCluster, originsFor, type Cluster } from '../support/cluster.js';
import { tempDir } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The harness later fault tests stand on: each process can be frozen, killed and restarted, and
 * the cluster works again afterwards.
 */
describe('the cluster harness', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let logDir: Awaited<ReturnType<typeof tempDir>>;
  /** A harmless Node flag, to see it on the worker's command line. */
  const WORKER_NODE_ARG = '--max-old-space-size=512';

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    origin.addStream('app', 'delta', { windowSegments: 6 });
    logDir = await tempDir('cluster-logs');
    cluster = await startCluster({
      workers: 1,
      origins: originsFor(origin.url),
      workerNodeArgs: [WORKER_NODE_ARG],
      logDir: logDir.path,
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
    await logDir?.remove();
  });

  it('freezes, kills and restarts workers, the gateway and Redis, and the cluster dumps again', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const [worker] = cluster.workers;
    const firstPid = worker!.pid;

    worker!.signal('SIGSTOP');
    await waitFor('the worker to be stopped', () => procState(firstPid!) === 'T');
    worker!.signal('SIGCONT');
    await waitFor('the worker to run again', () => procState(firstPid!) !== 'T');
    expect(await worker!.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await worker!.restart();
    await cluster.workerReady(worker!);
    expect(worker!.pid).not.toBe(firstPid);
    expect(worker!.output()).toMatch(/--- worker-0 #1 [^]*--- worker-0 #2/);

    // Redis away: the gateway says so on /readyz and recovers by itself once Redis is back.
    await cluster.redis.outage!.kill();
    await waitFor(
      'readyz to say 503',
      async () => (await fetch(`${cluster.gatewayUrl}/readyz`)).status === 503,
    );
    await cluster.redis.outage!.restart();
    await cluster.gatewayReady();

    // The gateway killed and restarted keeps its URL.
    const gatewayExit = await cluster.gateway.kill('SIGTERM');
    expect(gatewayExit.code, cluster.gateway.tail()).toBe(0);
    await cluster.gateway.restart();
    await cluster.gatewayReady();

    const dump = await cluster.startDump({ stream: 'delta', id: 'after-restarts' });
    expect(dump.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['delta'],
    });
    const status = await cluster.status('default', 'app', 'delta', 'after-restarts');
    expect(status.dump?.owner).toBe('worker-0');
    await waitFor('a segment per rendition', async () => {
      const { dump: d } = await cluster.status('default', 'app', 'delta', 'after-restarts');
      return (
        d !== undefined && d.renditions.length === 3 && d.renditions.every((r) => r.segments >= 1)
      );
    });
    expect((await cluster.stopDump({ stream: 'delta', id: 'after-restarts' })).status).toBe(200);
    expect((await readInfoFile(dump.infoFile!)).status).toBe('Completed');

    // Node's flags reach every incarnation of a worker; each process's output is in its log file.
    expect(readFileSync(`/proc/${worker!.pid}/cmdline`, 'utf8').split('\0')).toContain(
      WORKER_NODE_ARG,
    );
    expect(readFileSync(join(logDir.path, 'worker-0.log'), 'utf8')).toMatch(
      /"msg":"worker ready"[^]*"msg":"worker ready"/,
    );
    expect(readFileSync(join(logDir.path, 'gateway.log'), 'utf8')).toContain('gateway listening');

    await cluster.close();
    await cluster.close();
    expect(cluster.workers.every((w) => !w.running) && !cluster.gateway.running).toBe(true);
  });
});

/** The state letter of /proc/<pid>/stat (R, S, T for stopped...). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] ?? '?';
}
