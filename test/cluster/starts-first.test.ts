import { readdir } from 'node:fs/promises';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, originsFor, type Cluster } from '../support/cluster.js';
import { STARTS_FIRST_MAX_WAIT_MS } from '../../services/worker/src/starts-in-progress.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

// One worker process, one gateway, one Redis, a live origin over HTTP. A dump whose start was
// answered while another start of its worker is still on its way (an origin slow to answer it)
// records only once that start is answered: its first files and segments do not compete with the
// other start for the worker and the origin. Then it records from the live edge it started at.
let origin: TestOrigin;
let cluster: Cluster;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 8 });
  cluster = await startCluster({ workers: 1, origins: originsFor(origin.url) });
});
afterAll(async () => {
  await cluster?.close();
  await origin?.close();
});

async function segmentFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name.endsWith('.m4s') && name.startsWith('seg_'));
  } catch {
    return [];
  }
}

it('a dump answered while another start of its worker is in progress records once that start is answered', async () => {
  const quick = origin.addStream('app', 'quick', { windowSegments: 12 });
  const slow = origin.addStream('app', 'slow', { windowSegments: 12 });
  // Every answer about the slow stream takes 1 s: the gateway's probe, then the worker's master
  // and its chunklists, in sequence.
  slow.setLatency(1_000);

  const slowStarted = cluster.startDump({ stream: 'slow', id: 'slow' }).then((result) => ({
    result,
    answeredAt: performance.now(),
  }));
  await waitFor(
    'the worker to be starting the slow dump',
    () => cluster.workers[0]!.currentOutput().includes('"outputStreamName":"slow"') || undefined,
    { intervalMs: 20 },
  );
  const quickStart = await cluster.startDump({ stream: 'quick', id: 'quick' });
  const quickAnsweredAt = performance.now();
  expect(quickStart.status, JSON.stringify(quickStart.body)).toBe(200);

  // The quick dump runs; until the slow start is answered it writes no segment.
  let firstSegmentAt: number | undefined;
  await waitFor(
    'the quick dump to write a segment',
    async () => {
      if ((await segmentFiles(quickStart.outputPath)).length === 0) return undefined;
      firstSegmentAt = performance.now();
      return true;
    },
    { intervalMs: 10, timeoutMs: 20_000 },
  );
  const slowStart = await slowStarted;
  expect(slowStart.result.status, JSON.stringify(slowStart.result.body)).toBe(200);
  expect(quickAnsweredAt).toBeLessThan(slowStart.answeredAt);
  // Held while the slow start was in progress: recording followed its acknowledgement (which the
  // gateway then answered), or the longest hold (STARTS_FIRST_MAX_WAIT_MS from the quick dump's
  // running), whichever came first; never the quick dump's own answer.
  const heldMs = firstSegmentAt! - quickAnsweredAt;
  expect(heldMs).toBeGreaterThan(300);
  const releasedBySlowStart = firstSegmentAt! > slowStart.answeredAt - 300;
  const releasedByLimit = heldMs >= STARTS_FIRST_MAX_WAIT_MS - 300;
  expect(releasedBySlowStart || releasedByLimit, `held ${heldMs} ms`).toBe(true);

  // Then both record from where they started, every segment, byte for byte.
  await waitFor(
    'both dumps to record 3 segments per rendition',
    async () => {
      for (const dump of [quickStart, slowStart.result]) {
        const status = await cluster.status('default', 'app', dump.stream, dump.id);
        if (!status.dump?.renditions.every((r) => r.segments >= 3)) return undefined;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  for (const [dump, stream] of [
    [quickStart, quick],
    [slowStart.result, slow],
  ] as const) {
    expect((await cluster.stopDump({ stream: dump.stream, id: dump.id })).status).toBe(200);
    await verifyDump(
      stream,
      {
        outputPath: dump.outputPath,
        infoFile: dump.infoFile!,
        streamName: `/default/app/${dump.outputStreamName}`,
      },
      { minSegments: 3, context: () => cluster.logs() },
    );
  }
});
