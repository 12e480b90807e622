import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTestOrigin,
  type RenditionId,
  type StreamControl,
  type TestOrigin,
} from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  originsFor,
  startCluster,
  type Cluster,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { verifyClusterDump } from '../support/verify-dump.js';
import { waitFor } from '../support/wait-for.js';

/**
 * `maxDurationSeconds` and `from`, through the API, a worker process and the real disk: a dump
 * that ends itself after so much media, and dumps that start at the origin's oldest segment or
 * at a program date-time, byte for byte as the origin serves them.
 */
/**
 * The same count of segments on every rendition, ending where the limit falls. The limit counts a
 * segment's EXTINF as the first rendition to list it gives it (renditions differ by a few ms, and
 * which one lists a segment first is a race), so the count is right when, counting each segment at
 * its shortest, the segments before the last start short of the limit, and counting each at its
 * longest, they reach it with the last.
 */
function expectEndsAtLimit(
  stream: StreamControl,
  firstMsn: number,
  segments: Record<string, number>,
  limitSeconds: number,
): void {
  const counts = new Set(Object.values(segments));
  expect(counts.size, JSON.stringify(segments)).toBe(1);
  const [count] = counts as unknown as [number];
  const ids = Object.keys(segments) as RenditionId[];
  const durations = (index: number) =>
    ids.map((id) => stream.segmentDuration(id, firstMsn + index));
  let shortest = 0;
  let longest = 0;
  for (let index = 0; index < count; index++) {
    if (index < count - 1) shortest += Math.min(...durations(index));
    longest += Math.max(...durations(index));
  }
  expect(shortest, 'the segments before the last start short of the limit').toBeLessThan(
    limitSeconds - 0.001,
  );
  expect(longest, 'the last segment reaches the limit').toBeGreaterThanOrEqual(
    limitSeconds - 0.001,
  );
}

describe('maxDurationSeconds and from', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let streams = 0;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 4 });
    cluster = await startCluster({ workers: 1, origins: originsFor(origin.url) });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  const addStream = (windowSegments: number): StreamControl =>
    origin.addStream('app', `s${streams++}`, { windowSegments });
  const start = (stream: StreamControl, fields: Record<string, unknown>) => {
    const outputPath = join(cluster.outputRoot, `${stream.stream}-d`);
    return cluster
      .api(`/v1/vhosts/default/apps/app/streams/${stream.stream}:startHlsDump`, {
        outputStreamName: stream.stream,
        id: 'd',
        outputPath,
        infoFile: `${outputPath}.xml`,
        ...fields,
      })
      .then((result): StartedDump => ({
        ...result,
        vhost: 'default',
        app: 'app',
        stream: stream.stream,
        outputStreamName: stream.stream,
        id: 'd',
        outputPath,
        infoFile: `${outputPath}.xml`,
      }));
  };
  const statusOf = async (dump: StartedDump): Promise<DumpStatusBody & { endReason?: string }> =>
    (await cluster.status('default', 'app', dump.stream, dump.id)).dump!;
  const verify = (stream: StreamControl, dump: StartedDump, minSegments: number) =>
    verifyClusterDump(cluster, stream, dump, minSegments);
  const segmentsRecorded = (dump: StartedDump, count: number) =>
    waitFor(
      `${dump.stream} to record ${count} segments per rendition`,
      async () => {
        const status = await statusOf(dump);
        return status.renditions.length > 0 && status.renditions.every((r) => r.segments >= count);
      },
      { timeoutMs: 30_000, details: () => cluster.logs(4000) },
    );

  it('maxDurationSeconds: the dump ends itself, Completed, after that much media, chunklists and infoFile final', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const stream = addStream(10);
    const dump = await start(stream, { maxDurationSeconds: 10 });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    const final = await waitFor(
      'the dump to end by itself',
      async () => {
        const status = await statusOf(dump);
        return status.status === 'Completed' ? status : undefined;
      },
      { timeoutMs: 40_000, details: () => cluster.logs(4000) },
    );
    expect(final.endReason).toMatch(
      /^maxDurationSeconds reached: [\d.]+ s of media \(10 s asked\)$/,
    );
    const verified = await verify(stream, dump, 1);
    // Every segment that starts before 10 s of media, and none after; the same on every rendition.
    expectEndsAtLimit(stream, verified.firstMsn, verified.segments, 10);
    expect(verified.videoSeconds).toBeGreaterThanOrEqual(10 - 0.001);
    expect(verified.info.status).toBe('Completed');
    // Nothing stopped it: a stop now finds no active dump.
    expect((await cluster.stopDump({ stream: stream.stream, id: 'd' })).status).toBe(404);
  });

  it('maxDurationSeconds counts on across a hand-off: the dump still ends at the same media time', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const stream = addStream(12);
    // A second worker to hand the dump to (it stays for the next tests).
    if (cluster.workers.length < 2) await cluster.addWorker();
    const dump = await start(stream, { maxDurationSeconds: 32 });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    await segmentsRecorded(dump, 2);
    const owner = (await statusOf(dump)).owner;
    const leaving = cluster.workers.find((w) => w.id === owner)!;
    expect((await leaving.kill('SIGTERM')).code).toBe(0);
    const final = await waitFor(
      'the dump to end by itself on the other worker',
      async () => {
        const status = await statusOf(dump);
        return status.status === 'Completed' ? status : undefined;
      },
      { timeoutMs: 60_000, details: () => cluster.logs(4000) },
    );
    expect(final.owner).not.toBe(leaving.id);
    expect(final.endReason).toMatch(/^maxDurationSeconds reached: .* \(32 s asked\)$/);
    const verified = await verify(stream, dump, 1);
    expectEndsAtLimit(stream, verified.firstMsn, verified.segments, 32);
    // The leaving worker is back for the next tests.
    await leaving.restart();
    await cluster.workerReady(leaving);
  });

  it('from "window": the first segment is the oldest the origin holds, on every rendition, byte-exact', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const stream = addStream(6);
    await stream.waitForSegment(8);
    const oldestBefore = stream.status('video_0').firstMsn;
    const liveEdge = stream.status('video_0').completeSegments - 1;
    const dump = await start(stream, { from: 'window' });
    const oldestAfter = stream.status('video_0').firstMsn;
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    await segmentsRecorded(dump, 7);
    expect((await cluster.stopDump({ stream: stream.stream, id: 'd' })).status).toBe(200);
    const verified = await verify(stream, dump, 7);
    expect(verified.firstMsn).toBeGreaterThanOrEqual(oldestBefore);
    expect(verified.firstMsn).toBeLessThanOrEqual(oldestAfter);
    // Well behind the live edge when it started, where a live start would have begun.
    expect(verified.firstMsn).toBeLessThanOrEqual(liveEdge - 4);
    expect((await statusOf(dump)).gaps).toBe(0);
  });

  it('from a time: the first segment whose program date-time reaches it, byte-exact', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const stream = addStream(8);
    await stream.waitForSegment(8);
    const asked = stream.status('video_0').firstMsn + 3;
    // A moment after segment `asked - 1` began: the first segment that reaches it is `asked`.
    const at = new Date(stream.programDateTime('video_0', asked - 1).getTime() + 1);
    const dump = await start(stream, { from: at.toISOString() });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    await segmentsRecorded(dump, 5);
    expect((await cluster.stopDump({ stream: stream.stream, id: 'd' })).status).toBe(200);
    const verified = await verify(stream, dump, 5);
    expect(verified.firstMsn).toBe(asked);
    expect((await statusOf(dump)).gaps).toBe(0);
  });

  it('from a time the origin no longer holds: 400 naming the window, nothing written', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const stream = addStream(4);
    await stream.waitForSegment(10);
    const gone = stream.programDateTime('video_0', 2).toISOString();
    const dump = await start(stream, { from: gone });
    expect(dump.status).toBe(400);
    expect(dump.body.message).toMatch(
      new RegExp(
        `^\\[HTTP\\] from ${gone.replace(/[.]/g, '\\.')} is outside the window the origin holds: segments starting \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z to \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(400\\)$`,
      ),
    );
    const [, windowStart] = /segments starting (\S+) to/.exec(dump.body.message!)!;
    expect(Date.parse(windowStart!)).toBeGreaterThan(Date.parse(gone));
    expect(existsSync(dump.outputPath)).toBe(false);
    expect(existsSync(dump.infoFile!)).toBe(false);
    // Refused, so nothing holds the path or the infoFile: the same start from the window runs.
    const retried = await start(stream, { from: 'window' });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect((await cluster.stopDump({ stream: stream.stream, id: 'd' })).status).toBe(200);
  });
});
