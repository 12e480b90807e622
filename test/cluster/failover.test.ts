import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  startCluster,
  originsFor,
  type Cluster,
  type ClusterWorker,
  type StartedDump,
} from '../support/cluster.js';
import { baseName, readChunklist } from '../support/dump-kit.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { ffprobe } from '../support/ffprobe.js';
import {
  dumpOwner,
  dumpStatus,
  segmentsPerRendition,
  waitForSegments,
} from '../support/dump-progress.js';
import { verifyClusterDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A dump outlives the worker that runs it: killed, frozen, shut down for a rolling deploy, or cut
 * off from Redis, the dump goes on elsewhere, and whatever the origin no longer holds is marked.
 * The harness's lock duration is 4 s and BullMQ looks for stalled jobs every 1 s: that is the
 * failover time these tests expect.
 */
describe('reliability across worker processes', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let streams = 0;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 2 });
    cluster = await startCluster({
      workers: 2,
      origins: originsFor(origin.url),
      gatewayEnv: { STOP_TIMEOUT_MS: '1500' },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  const recorded = (d: StartedDump, count: number) =>
    waitForSegments(cluster, d, count, { timeoutMs: 40_000 });
  /** A fresh worker replaces a killed one, so the next test again has two. */
  const replace = async (worker: ClusterWorker) => {
    await worker.restart();
    await cluster.workerReady(worker);
  };

  async function start(
    windowSegments: number,
  ): Promise<{ stream: StreamControl; dump: StartedDump }> {
    const name = `f${streams++}`;
    const stream = origin.addStream('app', name, { windowSegments });
    const dump = await cluster.startDump({ stream: name, id: 'd' });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    // Once started, the status already names every rendition (no wait for a heartbeat).
    expect((await dumpStatus(cluster, dump))?.renditions).toHaveLength(stream.renditions.length);
    return { stream, dump };
  }

  /** The engine test's on-disk checks: the origin's bytes, in order, playable, listed, Completed. */
  const verifyFinished = (stream: StreamControl, dump: StartedDump, minSegments: number) =>
    verifyClusterDump(cluster, stream, dump, minSegments);

  /** Per rendition: origin sequence numbers of the chunklist's segments, and its discontinuities. */
  async function chunklists(stream: StreamControl, dump: StartedDump) {
    return Promise.all(
      stream.renditions.map(async (rendition) => {
        const { details, text } = await readChunklist(
          join(dump.outputPath, baseName(stream.chunklistUrl(rendition.id))),
        );
        const msns = details.segments.map((s) =>
          Number(/seg_\d+_(\d+)_/.exec(baseName(s.uri))![1]),
        );
        for (const [index, segment] of details.segments.entries()) {
          const bytes = await readFile(join(dump.outputPath, baseName(segment.uri)));
          expect(
            bytes.equals(stream.segmentBytes(rendition.id, msns[index]!)),
            `${rendition.id} ${msns[index]}`,
          ).toBe(true);
        }
        return {
          id: rendition.id,
          msns,
          discontinuities: (text.match(/#EXT-X-DISCONTINUITY\n/g) ?? []).length,
        };
      }),
    );
  }

  it('SIGKILL: another worker resumes the dump with no missing segment while the window holds them', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(12);
    await recorded(dump, 2);
    const victim = await dumpOwner(cluster, dump);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const survivor = await waitFor(
      'another worker to own the dump and run it',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.owner !== victim.id && s?.status === 'Running' ? s.owner : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const failoverMs = Date.now() - killedAt;
    console.log(
      `failover after SIGKILL: ${failoverMs} ms (lock 4000 ms, stalled check every 1000 ms), now on ${survivor}`,
    );
    const atTakeover = segmentsPerRendition(await dumpStatus(cluster, dump));
    await recorded(dump, atTakeover + 3);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);

    const verified = await verifyFinished(stream, dump, atTakeover + 3);
    expect(verified.info.status).toBe('Completed');
    expect((await dumpStatus(cluster, dump))?.gaps).toBe(0);
    await replace(victim);
  });

  it('SIGKILL with a window shorter than the failover: the gap is one discontinuity and counts the segments missed', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(1);
    await recorded(dump, 2);
    const victim = await dumpOwner(cluster, dump);
    await victim.kill('SIGKILL');
    await waitFor(
      'another worker to run the dump',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.owner !== victim.id && s?.status === 'Running';
      },
      { timeoutMs: 20_000 },
    );
    const atTakeover = segmentsPerRendition(await dumpStatus(cluster, dump));
    await recorded(dump, atTakeover + 2);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);

    const final = (await dumpStatus(cluster, dump))!;
    const lists = await chunklists(stream, dump);
    for (const list of lists) {
      const missing = list.msns.at(-1)! - list.msns[0]! + 1 - list.msns.length;
      const reported = final.renditions.find(
        (r) => r.chunklist === baseName(stream.chunklistUrl(list.id)),
      )!.gaps;
      expect(missing, `${list.id}: ${list.msns.join(',')}`).toBeGreaterThan(0);
      expect(reported, list.id).toBe(missing);
      expect(new Set(list.msns).size).toBe(list.msns.length);
      expect(list.discontinuities).toBe(1);
    }
    expect(final.gaps).toBe(final.renditions.reduce((sum, r) => sum + r.gaps, 0));
    const info = await readInfoFile(dump.infoFile!);
    expect(info.status).toBe('Completed');
    expectConsistentItems(info);
    expect((await ffprobe(join(dump.outputPath, 'llhls.m3u8'))).durationSeconds).toBeGreaterThan(0);
    await replace(victim);
  });

  it('SIGTERM: the worker hands the dump off and exits; it goes on elsewhere with no gap, Running until the real stop', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(12);
    await recorded(dump, 2);
    const leaving = await dumpOwner(cluster, dump);
    const exit = await leaving.kill('SIGTERM');
    expect(exit.code, leaving.tail()).toBe(0);
    await waitFor(
      'another worker to run the dump',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.owner !== leaving.id && s?.status === 'Running';
      },
      { timeoutMs: 10_000 },
    );
    expect((await readInfoFile(dump.infoFile!)).status).toBe('Running');
    const atHandoff = segmentsPerRendition(await dumpStatus(cluster, dump));
    await recorded(dump, atHandoff + 2);
    expect((await readInfoFile(dump.infoFile!)).status).toBe('Running');
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);

    await verifyFinished(stream, dump, atHandoff + 2);
    expect((await dumpStatus(cluster, dump))?.gaps).toBe(0);
    await replace(leaving);
  });

  it('a stop sent to a frozen owner is carried out by the next holder once the owner is killed', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { dump } = await start(12);
    await recorded(dump, 2);
    const frozen = await dumpOwner(cluster, dump);
    frozen.signal('SIGSTOP');
    const stop = await cluster.stopDump({ stream: dump.stream, id: 'd' });
    // Recorded durably, not yet acknowledged: the API still answers, and says so.
    expect(stop.status).toBe(503);
    expect(stop.body.message).toMatch(/Stop recorded/);
    await frozen.kill('SIGKILL');
    await waitFor(
      'the next holder to finalize the dump',
      async () => (await dumpStatus(cluster, dump))?.status === 'Completed',
      {
        timeoutMs: 20_000,
      },
    );
    const info = await readInfoFile(dump.infoFile!);
    expect(info.status).toBe('Completed');
    expectConsistentItems(info);
    await replace(frozen);
  });

  it('a frozen owner that comes back after a takeover stops writing instead of competing', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(12);
    await recorded(dump, 2);
    const frozen = await dumpOwner(cluster, dump);
    frozen.signal('SIGSTOP');
    const taker = await waitFor(
      'another worker to take the dump over',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.owner !== frozen.id && s?.status === 'Running' ? s.owner : undefined;
      },
      { timeoutMs: 20_000 },
    );
    frozen.signal('SIGCONT');
    await waitFor(
      'the thawed worker to notice it lost the dump',
      () => /dump lost/.test(frozen.output()),
      {
        timeoutMs: 10_000,
      },
    );
    const atThaw = segmentsPerRendition(await dumpStatus(cluster, dump));
    await recorded(dump, atThaw + 2);
    expect((await dumpStatus(cluster, dump))?.owner).toBe(taker);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);
    await verifyFinished(stream, dump, atThaw + 2);
  });

  it('Redis restarted empty mid-dump: the dump keeps writing, nothing is lost or doubled, the API recovers by itself', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(12);
    await recorded(dump, 2);
    const owner = (await dumpOwner(cluster, dump)).id;
    const itemsBefore = (await readInfoFile(dump.infoFile!)).items.length;

    await cluster.redis.outage!.kill();
    const refused = await cluster.stopDump({ stream: dump.stream, id: 'd' });
    expect(refused.status).toBe(503);
    // Redis is gone, the dump is not: its infoFile keeps growing.
    await waitFor(
      'Items while Redis is down',
      async () => (await readInfoFile(dump.infoFile!)).items.length >= itemsBefore + 6,
    );
    await cluster.redis.outage!.restart();
    await cluster.gatewayReady();

    // The owner writes the record back; status and stop work again, with the same owner.
    const back = await waitFor(
      'the dump to be known again',
      async () => {
        const s = await dumpStatus(cluster, dump);
        return s?.status === 'Running' ? s : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(back.owner).toBe(owner);
    const again = segmentsPerRendition(await dumpStatus(cluster, dump));
    await recorded(dump, again + 1);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);
    await verifyFinished(stream, dump, again + 1);
    // A new dump starts normally afterwards.
    const next = await cluster.startDump({ stream: dump.stream, id: 'after-redis' });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'after-redis' })).status).toBe(200);
  });

  it('a gateway restart has no effect on running dumps', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const { stream, dump } = await start(12);
    await recorded(dump, 2);
    const owner = (await dumpOwner(cluster, dump)).id;
    await cluster.gateway.kill('SIGKILL');
    const itemsAtKill = (await readInfoFile(dump.infoFile!)).items.length;
    await waitFor(
      'Items while the gateway is down',
      async () => (await readInfoFile(dump.infoFile!)).items.length >= itemsAtKill + 6,
    );
    await cluster.gateway.restart();
    await cluster.gatewayReady();
    const s = await dumpStatus(cluster, dump);
    expect(s?.status).toBe('Running');
    expect(s?.owner).toBe(owner);
    const atRestart = segmentsPerRendition(s);
    await recorded(dump, atRestart + 1);
    expect((await cluster.stopDump({ stream: dump.stream, id: 'd' })).status).toBe(200);
    await verifyFinished(stream, dump, atRestart + 1);
  });
});
