import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCluster, originsFor, type Cluster, type StartedDump } from '../support/cluster.js';
import { baseName, readChunklist } from '../support/dump-kit.js';
import { scrape, total, workerMetricsUrl, type Scrape } from '../support/prometheus.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import { verifyDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Prometheus metrics of a real cluster (gateway and two worker processes, Redis, a live origin over
 * HTTP), scraped while dumps run and after they stopped: the counters match what is on disk.
 */
describe('metrics of the gateway and the workers', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let workerUrls: string[];
  const streams: Record<string, StreamControl> = {};

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    for (const name of ['m0', 'm1'])
      streams[name] = origin.addStream('app', name, { windowSegments: 8 });
    cluster = await startCluster({
      workers: 2,
      origins: originsFor(origin.url),
      gatewayEnv: { WORKER_CAPACITY: '3' },
    });
    workerUrls = await Promise.all(cluster.workers.map(workerMetricsUrl));
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  const scrapeWorkers = (): Promise<Scrape[]> =>
    Promise.all(workerUrls.map((url) => scrape(`${url}/metrics`)));
  const scrapeGateway = (): Promise<Scrape> => scrape(`${cluster.gatewayUrl}/metrics`);
  const minSegments = async (d: StartedDump): Promise<number> => {
    const dump = (await cluster.status(d.vhost, d.app, d.stream, d.id)).dump;
    return dump && dump.renditions.length === 3
      ? Math.min(...dump.renditions.map((r) => r.segments))
      : 0;
  };

  /** Segment and init files of a finished dump, as its chunklists list them, with their sizes. */
  async function onDisk(
    d: StartedDump,
  ): Promise<{ segments: number; segmentBytes: number; initBytes: number }> {
    const stream = streams[d.stream]!;
    let segments = 0;
    let segmentBytes = 0;
    let initBytes = 0;
    for (const rendition of stream.renditions) {
      const { details } = await readChunklist(
        join(d.outputPath, baseName(stream.chunklistUrl(rendition.id))),
      );
      segments += details.segments.length;
      for (const segment of details.segments)
        segmentBytes += (await stat(join(d.outputPath, baseName(segment.uri)))).size;
      initBytes += (await stat(join(d.outputPath, baseName(details.segments[0]!.map!.uri)))).size;
    }
    // Nothing else of that kind lies in outputPath.
    const files = await readdir(d.outputPath);
    expect(files.filter((f) => f.endsWith('.m4s')).length).toBe(
      segments + stream.renditions.length,
    );
    return { segments, segmentBytes, initBytes };
  }

  it('counts what the dumps wrote, byte for byte, and what the API answered', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));

    // Health and readiness of both kinds of process, on the ports they serve.
    for (const url of workerUrls) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
    }
    const before = await scrapeGateway();
    expect(before.sum('hlsdump_dumps', { state: 'Running' })).toBe(0);
    expect(before.has('hlsdump_gateway_process_cpu_user_seconds_total')).toBe(true);
    expect(before.has('hlsdump_gateway_nodejs_heap_size_used_bytes')).toBe(true);

    // A refused call is counted under its route's name, never its path.
    const refused = await fetch(
      `${cluster.gatewayUrl}/v1/vhosts/default/apps/app/streams/m0:startHlsDump`,
      { method: 'POST', body: '{}' },
    );
    expect(refused.status).toBe(401);

    const started: StartedDump[] = [];
    for (const [stream, id] of [
      ['m0', 'a'],
      ['m0', 'b'],
      ['m1', 'a'],
      ['m1', 'b'],
    ] as const) {
      const d = await cluster.startDump({ stream, id });
      expect(d.body, cluster.logs()).toEqual({
        statusCode: 200,
        message: 'OK',
        response: [stream],
      });
      started.push(d);
    }
    await Promise.all(
      started.map((d) =>
        waitFor(
          `${d.stream}/${d.id} to record 4 segments per rendition`,
          async () => (await minSegments(d)) >= 4,
          {
            timeoutMs: 30_000,
            details: () => cluster.logs(),
          },
        ),
      ),
    );

    // While they run.
    const [running, workers] = await Promise.all([scrapeGateway(), scrapeWorkers()]);
    expect(running.sum('hlsdump_dumps', { state: 'Running' })).toBe(4);
    expect(running.sum('hlsdump_queue_jobs', { state: 'active' })).toBe(4);
    expect(running.sum('hlsdump_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(running.sum('hlsdump_redis_up')).toBe(1);
    expect(total(workers, 'hlsdump_worker_dumps')).toBe(4);
    expect(total(workers, 'hlsdump_segments_written_total')).toBeGreaterThanOrEqual(4 * 3 * 4);
    expect(total(workers, 'hlsdump_dump_lag_seconds_count')).toBeGreaterThan(0);
    expect(total(workers, 'hlsdump_origin_requests_total', { outcome: '2xx' })).toBeGreaterThan(0);
    for (const w of workers) {
      expect(w.has('hlsdump_worker_process_resident_memory_bytes')).toBe(true);
      expect(w.sum('hlsdump_worker_dumps'), 'the dumps spread over both workers').toBe(2);
    }
    const scaling = await (await fetch(`${cluster.gatewayUrl}/scaling`)).json();
    expect(scaling).toEqual({
      dumpsRunning: 4,
      dumpsQueued: 0,
      dumpsWanted: 4,
      workerCapacity: 3,
      workersWanted: 2,
    });

    for (const stream of ['m0', 'm1']) {
      const stop = await cluster.stopDump({ stream });
      expect(stop.body, cluster.logs()).toEqual({
        statusCode: 200,
        message: 'OK',
        response: [stream],
      });
    }

    // After: every counter equals what the disk holds. A dump's BullMQ job completes just after its
    // stop is acknowledged, so the queue figures are read once the jobs have.
    const gateway = await waitFor(
      'the dump jobs to complete',
      async () => {
        const scraped = await scrapeGateway();
        return scraped.sum('hlsdump_queue_jobs', { state: 'active' }) === 0 ? scraped : undefined;
      },
      { details: () => cluster.logs() },
    );
    const ended = await scrapeWorkers();
    let segments = 0;
    let segmentBytes = 0;
    let initBytes = 0;
    for (const d of started) {
      await verifyDump(
        streams[d.stream]!,
        { outputPath: d.outputPath, infoFile: d.infoFile!, streamName: `/default/app/${d.stream}` },
        { minSegments: 4, context: () => cluster.logs() },
      );
      const files = await onDisk(d);
      segments += files.segments;
      segmentBytes += files.segmentBytes;
      initBytes += files.initBytes;
    }
    expect(total(ended, 'hlsdump_segments_written_total')).toBe(segments);
    expect(total(ended, 'hlsdump_files_written_total', { kind: 'segment' })).toBe(segments);
    expect(total(ended, 'hlsdump_written_bytes_total', { kind: 'segment' })).toBe(segmentBytes);
    expect(total(ended, 'hlsdump_written_bytes_total', { kind: 'init' })).toBe(initBytes);
    expect(total(ended, 'hlsdump_files_written_total', { kind: 'init' })).toBe(4 * 3);
    expect(total(ended, 'hlsdump_files_written_total', { kind: 'master' })).toBe(4);
    expect(total(ended, 'hlsdump_gaps_total')).toBe(0);
    expect(total(ended, 'hlsdump_dump_status_changes_total', { status: 'Running' })).toBe(4);
    expect(total(ended, 'hlsdump_dump_status_changes_total', { status: 'Completed' })).toBe(4);
    expect(total(ended, 'hlsdump_worker_dumps')).toBe(0);
    // The lag is observed at chunklist updates once a playlist reload measured it; the dumps kept up.
    const lagCount = total(ended, 'hlsdump_dump_lag_seconds_count');
    expect(lagCount).toBeGreaterThan(segments / 2);
    expect(lagCount).toBeLessThanOrEqual(
      total(ended, 'hlsdump_files_written_total', { kind: 'chunklist' }),
    );
    expect(total(ended, 'hlsdump_dump_lag_seconds_sum') / lagCount).toBeLessThan(
      2 * streams.m0!.targetDuration,
    );
    expect(total(ended, 'hlsdump_origin_requests_total', { outcome: '5xx' })).toBe(0);
    // Every segment and init segment was one answered request at least.
    expect(
      total(ended, 'hlsdump_origin_requests_total', { outcome: '2xx' }),
    ).toBeGreaterThanOrEqual(segments + 4 * 3);

    expect(gateway.sum('hlsdump_dumps', { state: 'Running' })).toBe(0);
    expect(gateway.sum('hlsdump_dumps', { state: 'Completed' })).toBe(4);
    expect(gateway.sum('hlsdump_queue_jobs', { state: 'active' })).toBe(0);
    const requests = (route: string, status: string) =>
      gateway.sum('hlsdump_api_requests_total', { method: 'POST', route, status });
    expect(requests('startHlsDump', '200')).toBe(4);
    expect(requests('startHlsDump', '401')).toBe(1);
    expect(requests('stopHlsDump', '200')).toBe(2);
    expect(gateway.sum('hlsdump_dump_start_duration_seconds_count', { status: '200' })).toBe(4);
    expect(gateway.sum('hlsdump_dump_stop_duration_seconds_count', { status: '200' })).toBe(2);
    expect(gateway.sum('hlsdump_dump_start_duration_seconds_sum')).toBeGreaterThan(0);
    // The Grafana dashboard beside the manifests queries only what the services serve.
    const dashboard = await readFile(
      join(REPO_ROOT, 'deploy/kubernetes/grafana/hlsdump-dashboard.json'),
      'utf8',
    );
    const queried = new Set(dashboard.match(/hlsdump_[a-z_]+/g));
    expect(queried.size).toBeGreaterThan(10);
    const served = [gateway, ...ended];
    for (const name of queried)
      expect(
        served.some((s) => s.has(name)),
        `${name} is served`,
      ).toBe(true);
    // No label carries a dump's names: the series stay bounded however many dumps run.
    expect(gateway.text).not.toMatch(/m0|m1/);
    for (const w of ended) expect(w.text).not.toMatch(/m0|m1|"a"|"b"/);
  });

  it('a worker answers 503 on /readyz while it hands its dumps off, then exits', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const d = await cluster.startDump({ stream: 'm0', id: 'handoff' });
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    const ownerId = (await cluster.status(d.vhost, d.app, d.stream, d.id)).dump?.owner;
    const owner = cluster.workers.find((w) => w.id === ownerId)!;
    expect(owner, `owner ${ownerId}`).toBeDefined();
    const url = workerUrls[cluster.workers.indexOf(owner)]!;
    const seen = new Set<number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        try {
          seen.add((await fetch(`${url}/readyz`)).status);
        } catch {
          // The server closed: the process is on its way out.
        }
      }
    })();
    const exit = await owner.kill('SIGTERM');
    polling = false;
    await poll;
    expect(exit.code, owner.tail()).toBe(0);
    expect(seen.has(503), `statuses seen: ${[...seen].join(',')}`).toBe(true);
    // The dump went on with the other worker, which finalizes it.
    const stopped = await cluster.stopDump({ stream: 'm0', id: 'handoff' });
    expect(stopped.body, cluster.logs()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['m0'],
    });
  });

  it('a worker answers 503 on /readyz while Redis is away, 200 once it is back', async () => {
    const outage = cluster.redis.outage;
    expect(outage, 'an ephemeral redis-server the test can stop').toBeDefined();
    const worker = cluster.workers.find((w) => w.running)!;
    const url = workerUrls[cluster.workers.indexOf(worker)]!;
    const readyz = async () => (await fetch(`${url}/readyz`)).status;
    expect(await readyz()).toBe(200);
    await outage!.kill();
    await waitFor('/readyz to answer 503 without Redis', async () => (await readyz()) === 503);
    expect((await fetch(`${url}/healthz`)).status, 'the process itself is fine').toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    await outage!.restart();
    await waitFor('/readyz to answer 200 again', async () => (await readyz()) === 200, {
      timeoutMs: 20_000,
    });
  });
});
