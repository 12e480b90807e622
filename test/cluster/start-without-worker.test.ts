import { existsSync } from 'node:fs';
import { dumpKeyOf } from '@hlsdump/contracts';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCluster, originsFor, type Cluster } from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';
import { waitFor } from '../support/wait-for.js';

const START_TIMEOUT_MS = 2_000;

/** docs/api.md#start-checks: no worker within the start timeout → 503, and a refused dump never starts later. */
describe('a start with no worker process running', () => {
  let origin: TestOrigin;
  let cluster: Cluster;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    origin.addStream('app', 'gamma', { windowSegments: 6 });
    cluster = await startCluster({
      workers: 0,
      origins: originsFor(origin.url),
      gatewayEnv: { START_TIMEOUT_MS: String(START_TIMEOUT_MS) },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  it('answers 503 within the start timeout, and the refused dump never starts once a worker comes', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const began = Date.now();
    const refused = await cluster.startDump({ stream: 'gamma', id: 'refused' });
    const elapsed = Date.now() - began;
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.statusCode).toBe(503);
    expect(refused.body.message).toMatch(/^\[HTTP\] .+ \(503\)$/);
    expect(elapsed).toBeGreaterThanOrEqual(START_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(START_TIMEOUT_MS + 1_500);

    // A worker arrives afterwards, takes a new dump and records with it for a while.
    const worker = await cluster.addWorker();
    const fresh = await cluster.startDump({ stream: 'gamma', id: 'fresh' });
    expect(fresh.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['gamma'],
    });
    const freshStatus = await waitFor(
      'the new dump to record 3 segments',
      async () => {
        const { dump } = await cluster.status('default', 'app', 'gamma', 'fresh');
        return (
          dump &&
          dump.renditions.length > 0 &&
          dump.renditions.every((r) => r.segments >= 3) &&
          dump
        );
      },
      { timeoutMs: 15_000, details: () => cluster.logs() },
    );
    expect(freshStatus.owner).toBe(worker.id);
    expect((await cluster.stopDump({ stream: 'gamma', id: 'fresh' })).status).toBe(200);
    expect((await readInfoFile(fresh.infoFile!)).status).toBe('Completed');

    // The refused dump: nothing on disk, Withdrawn in the registry, never seen by the worker.
    expect(existsSync(refused.outputPath), refused.outputPath).toBe(false);
    expect(existsSync(refused.infoFile!), refused.infoFile).toBe(false);
    const status = await cluster.status('default', 'app', 'gamma', 'refused');
    if (status.status === 200) {
      expect(status.dump!.status).toBe('Withdrawn');
      expect(status.dump!.owner).toBeUndefined();
    } else {
      expect(status.status).toBe(404);
    }
    const refusedKey = dumpKeyOf({
      vhost: 'default',
      app: 'app',
      outputStreamName: 'gamma',
      id: 'refused',
    });
    expect(
      worker.logs().filter((l) => l.dumpKey === refusedKey && l.msg === 'starting dump'),
    ).toEqual([]);
    // Stopping it finds nothing to stop.
    expect((await cluster.stopDump({ stream: 'gamma', id: 'refused' })).status).toBe(404);
  });
});
