import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  startCluster,
  originsFor,
  type Cluster,
  type ClusterWorker,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';
import { scrape, workerMetricsUrl } from '../support/prometheus.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

const STREAMS = 10;
const IDS_PER_STREAM = 4;
const DUMPS = STREAMS * IDS_PER_STREAM;
/** WORKER_CAPACITY: 40 dumps want 4 workers. */
const CAPACITY = 10;
/** Even within ±25 % of the mean. */
const TOLERANCE = 0.25;

interface Figure {
  dumpsRunning: number;
  dumpsQueued: number;
  dumpsWanted: number;
  workerCapacity: number;
  workersWanted: number;
}

/**
 * Scaling for real: worker processes come and go by the autoscaler's rule — read the gateway's
 * `/scaling`, replicas = clamp(workersWanted, 1, maxReplicas), start processes, SIGTERM them — while
 * 40 dumps run. 1 → 4 workers (the figure asks for 4; the busy worker hands its dumps beyond the
 * fair share back to the newcomers), then 4 → 1 (the operator lowers maxReplicas to 1; three
 * workers hand everything off on SIGTERM). Every dump stays gap-free, duplicate-free and
 * byte-exact, and at 4 workers each holds and writes its even share.
 */
describe('scaling workers 1 → 4 → 1 while 40 dumps run', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  const streams: StreamControl[] = [];
  const metricsUrls = new Map<ClusterWorker, string>();

  beforeAll(async () => {
    // Plain HLS, 1 s segments reloaded every second, a 30-segment window for the hand-offs.
    origin = await createTestOrigin({ speed: 1 });
    for (let i = 0; i < STREAMS; i++)
      streams.push(
        origin.addStream('app', `s${i}`, { mode: 'hls', partsPerSegment: 1, windowSegments: 30 }),
      );
    cluster = await startCluster({
      workers: 1,
      origins: originsFor(origin.url),
      gatewayEnv: {
        WORKER_CAPACITY: String(CAPACITY),
        START_TIMEOUT_MS: '20000',
        STOP_TIMEOUT_MS: '20000',
      },
      workerEnv: { WORKER_CONCURRENCY: '50', REBALANCE_INTERVAL_MS: '300', LOG_LEVEL: 'info' },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  const figure = async (): Promise<Figure> => {
    const response = await fetch(`${cluster.gatewayUrl}/scaling`);
    expect(response.status).toBe(200);
    return (await response.json()) as Figure;
  };
  const live = (): ClusterWorker[] => cluster.workers.filter((w) => w.running);
  const metricsUrl = async (worker: ClusterWorker): Promise<string> => {
    let url = metricsUrls.get(worker);
    if (!url) metricsUrls.set(worker, (url = await workerMetricsUrl(worker)));
    return url;
  };
  /** What each live worker's /metrics says it holds and has written. */
  const perWorker = async () =>
    Promise.all(
      live().map(async (worker) => {
        const s = await scrape(`${await metricsUrl(worker)}/metrics`);
        return {
          worker,
          held: s.sum('hlsdump_worker_dumps'),
          segments: s.sum('hlsdump_segments_written_total'),
          rebalanced: s.sum('hlsdump_dump_handoffs_total', { reason: 'rebalance' }),
        };
      }),
    );
  /** Every dump's status, from the list endpoint of each stream. */
  const statuses = async (): Promise<(DumpStatusBody & { lagSeconds?: number })[]> =>
    (
      await Promise.all(
        streams.map(async (_, i) => {
          const list = await cluster.api(`/v1/vhosts/default/apps/app/streams/s${i}:hlsDumps`);
          expect(list.status).toBe(200);
          return list.body.response as DumpStatusBody[];
        }),
      )
    ).flat();
  const even = (shares: number[]): boolean => {
    const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
    return shares.every((share) => Math.abs(share - mean) <= TOLERANCE * mean);
  };

  /** The autoscaler: replicas = clamp(workersWanted, 1, maxReplicas); returns what it did. */
  async function autoscale(maxReplicas: number): Promise<{ figure: Figure; replicas: number }> {
    const read = await figure();
    const replicas = Math.min(maxReplicas, Math.max(1, read.workersWanted));
    const running = live();
    if (replicas > running.length) {
      await Promise.all(
        Array.from({ length: replicas - running.length }, () => cluster.addWorker()),
      );
    } else if (replicas < running.length) {
      // Scale-in: the oldest go, as a rolling update would; each hands its dumps off on SIGTERM.
      const leaving = running.slice(0, running.length - replicas);
      const exits = await Promise.all(leaving.map((w) => w.kill('SIGTERM')));
      for (const [i, exit] of exits.entries())
        expect(exit, leaving[i]!.tail()).toEqual({ code: 0, signal: null });
    }
    return { figure: read, replicas };
  }

  it('follows /scaling, spreads the dumps evenly, scales in without losing a segment', async () => {
    onTestFailed(() => console.error(cluster.logs(6_000)));
    const report: string[] = [];
    const began = Date.now();

    // 40 dumps on one worker.
    const started: StartedDump[] = [];
    for (let batch = 0; batch < IDS_PER_STREAM; batch++) {
      const results = await Promise.all(
        streams.map((_, i) => cluster.startDump({ stream: `s${i}`, id: `d${batch}` })),
      );
      for (const d of results)
        expect(d.body, `${d.stream}/${d.id}\n${cluster.logs()}`).toEqual({
          statusCode: 200,
          message: 'OK',
          response: [d.stream],
        });
      started.push(...results);
    }
    expect(await figure()).toEqual({
      dumpsRunning: DUMPS,
      dumpsQueued: 0,
      dumpsWanted: DUMPS,
      workerCapacity: CAPACITY,
      workersWanted: DUMPS / CAPACITY,
    });
    report.push(`40 dumps started on 1 worker in ${((Date.now() - began) / 1000).toFixed(1)} s`);

    // Scale out by the figure: 1 → 4.
    const up = await autoscale(4);
    expect(up.replicas).toBe(4);
    expect(live()).toHaveLength(4);
    const scaledAt = Date.now();
    const balanced = await waitFor(
      'the 40 dumps to spread evenly over the 4 workers',
      async () => {
        const workers = await perWorker();
        const held = workers.map((w) => w.held);
        const f = await figure();
        const resumed = (await statuses()).every((d) => d.status === 'Running');
        return (
          held.reduce((a, b) => a + b, 0) === DUMPS &&
          f.dumpsQueued === 0 &&
          f.dumpsRunning === DUMPS &&
          even(held) &&
          // Settled, not passing through: a worker that took beyond the share while it counted
          // fewer workers hands the excess back at its next look.
          Math.max(...held) <= Math.ceil(DUMPS / held.length) &&
          resumed &&
          workers
        );
      },
      { timeoutMs: 40_000, intervalMs: 250, details: () => cluster.logs(3_000) },
    );
    report.push(
      `1 → 4: balanced in ${((Date.now() - scaledAt) / 1000).toFixed(1)} s, held ${balanced.map((w) => w.held).join('/')}`,
    );
    // The registry agrees: every dump Running, owned by a live worker, the owners' shares even.
    const owned = await statuses();
    expect(owned).toHaveLength(DUMPS);
    expect(owned.filter((d) => d.status !== 'Running')).toEqual([]);
    const shares = live().map((w) => owned.filter((d) => d.owner === w.id).length);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(DUMPS);
    expect(even(shares), `owners' shares ${shares.join('/')}`).toBe(true);

    // While at 4, each worker writes its share of the segments, once the resumed dumps caught up
    // with the live edge (a hand-off leaves a backlog the new owner fetches first).
    await waitFor(
      'every dump to be within two target durations of the live edge',
      async () =>
        (await statuses()).every(
          (d) => d.lagSeconds !== undefined && d.lagSeconds <= 2 * streams[0]!.targetDuration,
        ),
      { timeoutMs: 30_000, intervalMs: 250, details: () => cluster.logs(3_000) },
    );
    const from = await perWorker();
    const atFour = await waitFor(
      'each worker to write segments at 4 workers',
      async () => {
        const now = await perWorker();
        const written = now.map((w, i) => w.segments - from[i]!.segments);
        return Math.min(...written) >= 450 && { written, held: now.map((w) => w.held) };
      },
      { timeoutMs: 30_000, intervalMs: 500, details: () => cluster.logs(3_000) },
    );
    expect(atFour.held, 'nobody moved dumps around once balanced').toEqual(
      balanced.map((w) => w.held),
    );
    expect(even(atFour.written), `segments written at 4: ${atFour.written.join('/')}`).toBe(true);
    // The busy worker handed its dumps beyond the share back (the others may have passed some on).
    const rebalanced = (await perWorker()).reduce((sum, w) => sum + w.rebalanced, 0);
    expect(rebalanced).toBeGreaterThanOrEqual(DUMPS - CAPACITY);
    report.push(
      `at 4 workers: owners ${shares.join('/')}, segments written meanwhile ${atFour.written.join('/')}`,
    );

    // Scale in: the operator caps maxReplicas at 1 while the figure still asks for 4.
    const scaleInAt = Date.now();
    const down = await autoscale(1);
    expect(down.figure.workersWanted).toBe(4);
    expect(live()).toHaveLength(1);
    const [last] = live() as [ClusterWorker];
    await waitFor(
      'the last worker to run all 40 dumps',
      async () => {
        const [w] = await perWorker();
        const f = await figure();
        return w?.held === DUMPS && f.dumpsRunning === DUMPS && f.dumpsQueued === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, details: () => cluster.logs(3_000) },
    );
    report.push(
      `4 → 1: all 40 on ${last.id} ${((Date.now() - scaleInAt) / 1000).toFixed(1)} s after the SIGTERMs`,
    );
    const afterScaleIn = (await perWorker())[0]!.segments;
    await waitFor(
      'the last worker to keep writing every dump',
      async () => (await perWorker())[0]!.segments - afterScaleIn >= DUMPS * 3 * 2,
      { timeoutMs: 30_000, intervalMs: 500, details: () => cluster.logs(3_000) },
    );

    // Stop everything; every dump is whole.
    const stops = await Promise.all(streams.map((_, i) => cluster.stopDump({ stream: `s${i}` })));
    for (const [i, stop] of stops.entries())
      expect(stop.body, cluster.logs()).toEqual({
        statusCode: 200,
        message: 'OK',
        response: [`s${i}`],
      });
    const final = await statuses();
    expect(final.every((d) => d.status === 'Completed' && d.gaps === 0)).toBe(true);

    let segments = 0;
    for (const d of started) {
      const stream = streams[Number(d.stream.slice(1))]!;
      // Byte-exact, consecutive (no gap, no duplicate), playable, every file listed.
      const verified = await verifyDump(
        stream,
        { outputPath: d.outputPath, infoFile: d.infoFile!, streamName: `/default/app/${d.stream}` },
        { minSegments: 10, context: () => cluster.logs(3_000) },
      );
      const segmentItems = verified.info.items
        .map((item) => item.file)
        .filter((file) => /\/seg_[^/]+$/.test(file));
      expect(new Set(segmentItems).size, `${d.outputPath}: a segment written twice`).toBe(
        segmentItems.length,
      );
      expect((await readInfoFile(d.infoFile!)).status).toBe('Completed');
      segments += Object.values(verified.segments).reduce((a, b) => a + b, 0);
    }
    const handOffs = cluster.workers
      .flatMap((w) => w.logs())
      .filter((l) => l.msg === 'dump suspended for hand-off').length;
    const resumed = cluster.workers
      .flatMap((w) => w.logs())
      .filter((l) => l.msg === 'starting dump' && l.resumed === true).length;
    report.push(
      `${rebalanced} dumps handed back over the share, ${handOffs} hand-offs in all, ${resumed} resumes; ${segments} segments in 40 dumps, 0 gaps, 0 duplicates; ${((Date.now() - began) / 1000).toFixed(1)} s in all`,
    );
    console.info(report.join('\n'));
  }, 180_000);
});
