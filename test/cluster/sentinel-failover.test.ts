import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { originsFor, startCluster, type Cluster, type StartedDump } from '../support/cluster.js';
import { startSentinelSet, type SentinelSet } from '../support/redis-sentinel-set.js';
import { dumpStatus, segmentsPerRendition, waitForSegments } from '../support/dump-progress.js';
import { verifyClusterDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Redis high availability: gateway and workers reach Redis only through three Sentinels
 * (REDIS_SENTINELS, REDIS_SENTINEL_NAME). The master is killed while dumps run; the Sentinels
 * promote the replica, every process finds the new master by itself, and no dump loses a
 * segment while the origin's window (24 s) holds what was written meanwhile.
 */
const WINDOW_SECONDS = 24;
/** The cluster's test timings: a heartbeat older than this lets another run take the dump over. */
const LOCK_DURATION_MS = 4_000;

describe.each([
  { title: 'the Sentinels call it down after 1 s', downAfterMs: 1_000 },
  {
    // Longer than the lock: on the new master the running dumps look abandoned, and those whose
    // job BullMQ hands out again before their owner's next heartbeat are taken over, by the other
    // worker or by the one still running them (what lost writes did to a quick failover).
    title: 'the failover outlasts the lock duration, so dumps are taken over',
    downAfterMs: LOCK_DURATION_MS + 1_000,
  },
])('Redis Sentinel: the master dies mid-dump; $title', ({ downAfterMs }) => {
  let sentinel: SentinelSet;
  let origin: TestOrigin;
  let cluster: Cluster;

  beforeAll(async () => {
    sentinel = await startSentinelSet('hlsdump', { downAfterMs });
    origin = await createTestOrigin({ speed: 1 });
    cluster = await startCluster({
      workers: 2,
      origins: originsFor(origin.url),
      externalRedis: {
        // Not used by the services (they get only the Sentinels); closed by the Sentinel set.
        redis: { url: `redis://127.0.0.1:${sentinel.master.port}`, stop: async () => {} },
        env: sentinel.env,
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
    await sentinel?.close();
  });

  const recorded = (d: StartedDump, count: number) =>
    waitForSegments(cluster, d, count, { timeoutMs: 60_000, intervalMs: 250 });

  it('the replica is promoted, the API answers again by itself, 0 dumps lost, 0 gaps', async () => {
    onTestFailed(() => console.error(`${cluster.logs(20_000)}\n${sentinel.logs()}`));
    const probe = origin.addStream('app', 'probe');
    const segmentSeconds = probe.segmentDuration(probe.renditions[0]!.id, 0);
    const windowSegments = Math.ceil(WINDOW_SECONDS / segmentSeconds);

    const running: { stream: StreamControl; dump: StartedDump }[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = origin.addStream('app', `s${i}`, { windowSegments });
      const dump = await cluster.startDump({ stream: `s${i}`, id: 'd' });
      expect(dump.status, JSON.stringify(dump.body)).toBe(200);
      running.push({ stream, dump });
    }
    await Promise.all(running.map(({ dump }) => recorded(dump, 2)));
    expect(await sentinel.masterPort()).toBe(sentinel.master.port);

    const killedAt = Date.now();
    await sentinel.master.kill('SIGKILL');
    await waitFor(
      'the Sentinels to promote the replica',
      async () =>
        (await sentinel.masterPort()) === sentinel.replica.port &&
        (await sentinel.roleOf(sentinel.replica)) === 'master',
      { timeoutMs: 30_000, intervalMs: 100, details: sentinel.logs },
    );
    const promotedMs = Date.now() - killedAt;
    // Nobody restarts anything: the gateway finds the new master through the Sentinels.
    await waitFor(
      'the gateway to be ready again',
      async () => (await fetch(`${cluster.gatewayUrl}/readyz`)).ok,
      { timeoutMs: 30_000, details: () => cluster.logs(4_000) },
    );
    const apiBackMs = Date.now() - killedAt;

    // Every dump is still known and running, and keeps recording.
    const atFailover: number[] = [];
    for (const { dump } of running) {
      const status = await waitFor(
        `${dump.stream} to be Running after the failover`,
        async () => {
          const s = await dumpStatus(cluster, dump);
          return s?.status === 'Running' ? s : undefined;
        },
        { timeoutMs: 20_000, details: () => cluster.logs(4_000) },
      );
      atFailover.push(segmentsPerRendition(status));
    }
    // A dump started after the failover runs too.
    const afterStream = origin.addStream('app', 'after', { windowSegments });
    const after = await cluster.startDump({ stream: 'after', id: 'd' });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    running.push({ stream: afterStream, dump: after });
    atFailover.push(0);

    await Promise.all(running.map(({ dump }, i) => recorded(dump, atFailover[i]! + 2)));
    for (const { dump } of running) {
      const stop = await cluster.stopDump({ stream: dump.stream, id: 'd' });
      expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    }
    let gaps = 0;
    for (const [i, { stream, dump }] of running.entries()) {
      const verified = await verifyClusterDump(cluster, stream, dump, atFailover[i]! + 2);
      expect(verified.info.status).toBe('Completed');
      const final = await dumpStatus(cluster, dump);
      expect(final?.status).toBe('Completed');
      gaps += final?.gaps ?? 0;
    }
    expect(gaps).toBe(0);
    // What the failover made the workers do: the replica may have missed the newest heartbeats and
    // lock renewals, so a dump can be taken over (even by the worker still running it); the run it
    // replaced must then have stopped writing.
    const count = (pattern: RegExp): number =>
      cluster.workers.map((w) => w.output().match(pattern)?.length ?? 0).reduce((a, b) => a + b);
    const takeovers = count(/taking over a dump/g);
    // No worker died: every run that was taken over was alive. It stops at its next heartbeat or
    // write, which may come after the stop of its successor (a run no heartbeat reaches any more,
    // its job given to its own worker again, learns it at its next segment).
    await waitFor(
      `the ${takeovers} runs taken over to have stopped writing`,
      () => count(/dump lost|no longer owns/g) >= takeovers,
      { timeoutMs: 20_000, details: () => cluster.logs(4_000) },
    );
    const fencedOut = count(/dump lost|no longer owns/g);
    expect(fencedOut).toBe(takeovers);
    console.log(
      `Sentinel failover: replica promoted ${promotedMs} ms after the master was killed, ` +
        `API ready again after ${apiBackMs} ms; ${running.length} dumps Completed, 0 lost, ` +
        `${gaps} gaps (window ${windowSegments} x ${segmentSeconds} s); ${takeovers} takeovers, ` +
        `${fencedOut} runs fenced out`,
    );
  }, 180_000);
});
