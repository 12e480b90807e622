import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dumpKeyOf } from '@hlsdump/contracts';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  startCluster,
  originsFor,
  type Cluster,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

const SEGMENTS = 4;

/**
 * Two worker processes, one gateway process, one Redis process, a live origin over HTTP: dumps
 * spread over the workers, stops reach exactly their owners over pub/sub, and what lands on disk
 * is the origin's bytes in playable VOD chunklists.
 */
describe('dumps across two worker processes', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let alpha: StreamControl;
  let beta: StreamControl;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    alpha = origin.addStream('app', 'alpha', { windowSegments: 6 });
    beta = origin.addStream('app', 'beta', { windowSegments: 6 });
    // Two dumps per worker at most: four dumps must land on both.
    cluster = await startCluster({
      workers: 2,
      origins: originsFor(origin.url),
      workerEnv: { WORKER_CONCURRENCY: '2' },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await cluster?.close(); // safe twice
    await origin?.close();
  });

  const dumpKey = (d: StartedDump): string =>
    dumpKeyOf({ vhost: d.vhost, app: d.app, outputStreamName: d.outputStreamName, id: d.id });
  const statusOf = async (d: StartedDump) => {
    const result = await cluster.status(d.vhost, d.app, d.stream, d.id);
    expect(result.status, `${d.stream}/${d.id}: ${JSON.stringify(result.body)}`).toBe(200);
    return result.dump!;
  };
  const items = async (d: StartedDump): Promise<number> =>
    (await readInfoFile(d.infoFile!)).items.length;
  /** Every rendition of the dump has written at least `count` segments (status endpoint). */
  const recorded = (d: StartedDump, count: number) =>
    waitFor(
      `${d.stream}/${d.id} to record ${count} segments per rendition`,
      async () => {
        const dump = await statusOf(d);
        return (
          dump.renditions.length === 3 && dump.renditions.every((r) => r.segments >= count) && dump
        );
      },
      { timeoutMs: 20_000, details: () => cluster.logs() },
    );
  /** Every file of the dump (outputPath + infoFile) by content hash. */
  const snapshot = async (d: StartedDump): Promise<Record<string, string>> => {
    const files = [...(await readdir(d.outputPath)).map((n) => join(d.outputPath, n)), d.infoFile!];
    const entries = await Promise.all(
      files.map(
        async (f) =>
          [
            f,
            createHash('sha256')
              .update(await readFile(f))
              .digest('hex'),
          ] as const,
      ),
    );
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  };

  it("spreads four dumps over both workers, stops by id at the owner only, stops by stream, restarts an id, and every dump is the origin's bytes", async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));

    // Four dumps: two streams, two ids on each.
    const started = await Promise.all([
      cluster.startDump({ stream: 'alpha', id: 'one' }),
      cluster.startDump({ stream: 'alpha', id: 'two' }),
      cluster.startDump({ stream: 'beta', id: 'one' }),
      cluster.startDump({ stream: 'beta', id: 'two' }),
    ]);
    for (const d of started)
      expect(d.body, `${d.stream}/${d.id}\n${cluster.logs()}`).toEqual({
        statusCode: 200,
        message: 'OK',
        response: [d.outputStreamName],
      });
    const [alphaOne, alphaTwo, betaOne, betaTwo] = started as [
      StartedDump,
      StartedDump,
      StartedDump,
      StartedDump,
    ];

    const owners = new Map<StartedDump, string>();
    for (const d of started) {
      const status = await statusOf(d);
      expect(status.status).toBe('Running');
      owners.set(d, status.owner!);
    }
    const perWorker = cluster.workers.map(
      (w) => [...owners.values()].filter((o) => o === w.id).length,
    );
    expect(perWorker, JSON.stringify([...owners.values()])).toEqual([2, 2]);

    await Promise.all(started.map((d) => recorded(d, 3)));

    // Stop by id: only the owner hears of it.
    const owner = cluster.workers.find((w) => w.id === owners.get(alphaOne))!;
    const other = cluster.workers.find((w) => w !== owner)!;
    const others = [alphaTwo, betaOne, betaTwo];
    const itemsBefore = await Promise.all(others.map(items));
    const stopOne = await cluster.stopDump({ stream: 'alpha', id: 'one' });
    expect(stopOne.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['alpha'],
    });
    const key = dumpKey(alphaOne);
    const control = owner.logs().filter((l) => l.msg === 'control message' && l.dumpKey === key);
    expect(
      control.map((l) => l.type),
      owner.tail(),
    ).toEqual(['stop']);
    expect(other.output(), other.tail()).not.toContain(key);
    expect(other.logs().filter((l) => l.msg === 'control message')).toEqual([]);
    // Acknowledged means final: Completed, and every chunklist ends the VOD.
    expect((await readInfoFile(alphaOne.infoFile!)).status).toBe('Completed');
    expect((await statusOf(alphaOne)).status).toBe('Completed');
    const stoppedSnapshot = await snapshot(alphaOne);
    // The other three keep recording past the stop.
    await Promise.all(
      others.map((d, i) =>
        waitFor(
          `${d.stream}/${d.id} to keep growing`,
          async () => (await items(d)) > itemsBefore[i]! + 3,
          {
            timeoutMs: 15_000,
            details: () => cluster.logs(),
          },
        ),
      ),
    );
    for (const d of others) expect((await statusOf(d)).status).toBe('Running');
    expect(await snapshot(alphaOne), 'a stopped dump never changes').toEqual(stoppedSnapshot);

    // Stop without id: both dumps of beta, nothing of alpha.
    const alphaTwoItems = await items(alphaTwo);
    const stopBeta = await cluster.stopDump({ stream: 'beta' });
    expect(stopBeta.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['beta'],
    });
    for (const d of [betaOne, betaTwo]) {
      expect((await statusOf(d)).status).toBe('Completed');
      expect((await readInfoFile(d.infoFile!)).status).toBe('Completed');
    }
    const betaSnapshots = await Promise.all([betaOne, betaTwo].map(snapshot));
    await waitFor(
      'alpha/two to keep growing after beta stopped',
      async () => (await items(alphaTwo)) > alphaTwoItems + 3,
      {
        timeoutMs: 15_000,
        details: () => cluster.logs(),
      },
    );
    expect((await statusOf(alphaTwo)).status).toBe('Running');

    // The stopped id starts again, under the same name, and runs.
    const again = await cluster.startDump({ stream: 'alpha', id: 'one' });
    expect(again.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['alpha'],
    });
    expect((await statusOf(again)).status).toBe('Running');
    await recorded(again, SEGMENTS);
    await recorded(alphaTwo, SEGMENTS);

    const stopAlpha = await cluster.stopDump({ stream: 'alpha' });
    expect(stopAlpha.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['alpha'],
    });
    expect(await snapshot(alphaOne)).toEqual(stoppedSnapshot);
    expect(await Promise.all([betaOne, betaTwo].map(snapshot))).toEqual(betaSnapshots);
    // Stopping what is already stopped finds nothing.
    expect((await cluster.stopDump({ stream: 'alpha', id: 'one' })).status).toBe(404);

    const streams = { alpha, beta };
    const report: string[] = [];
    for (const d of [alphaOne, alphaTwo, betaOne, betaTwo, again]) {
      // Every run of an id is listed: alpha/one's first run stays beside its second.
      const list = await cluster.api(`/v1/vhosts/default/apps/app/streams/${d.stream}:hlsDumps`, {
        outputStreamName: d.outputStreamName,
        id: d.id,
      });
      const records = list.body.response as DumpStatusBody[];
      expect(records).toHaveLength(d === alphaOne || d === again ? 2 : 1);
      const status = records.find((s) => s.outputPath === d.outputPath);
      expect(status?.status).toBe('Completed');
      const verified = await verifyDump(
        streams[d.stream as 'alpha' | 'beta'],
        {
          outputPath: d.outputPath,
          infoFile: d.infoFile!,
          streamName: `/default/app/${d.outputStreamName}`,
        },
        { minSegments: 3, context: () => cluster.logs() },
      );
      // The status endpoint agrees with the disk.
      if (status) {
        expect(status.renditions.map((r) => r.segments).sort()).toEqual(
          Object.values(verified.segments).sort(),
        );
        expect(status.gaps).toBe(0);
      }
      report.push(
        `${d.stream}/${d.id}: ${JSON.stringify(verified.segments)} segments from MSN ${verified.firstMsn}, ${verified.info.items.length} items, ${verified.videoSeconds.toFixed(1)} s dumped, ffprobe ${verified.probedSeconds.toFixed(1)} s`,
      );
    }

    console.info(report.join('\n'));
  });
});
