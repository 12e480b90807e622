// One dump in a process of its own, for bench/day-sim.mjs: the engine (HlsDump, LocalStorage,
// OriginClient) exactly as a worker runs it, without Redis, so what is measured is what a dump
// costs as it grows. Started with --expose-gc. At every media hour (every rendition has another
// hour of segments) it sends the hour's CPU, bytes written (/proc/self/io wchar) and segments, and
// the live heap after a full GC.
//
//   fork('day-dump.mjs', [JSON request, segmentSeconds, hours]) → { type: 'hour', ... } ... { type: 'done', ... }
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { HlsDump } from '@hlsdump/dump-engine';
import { OriginClient } from '@hlsdump/hls-client';
import { LocalStorage } from '@hlsdump/storage';

const [requestJson, segmentSecondsArg, hoursArg] = process.argv.slice(2);
const request = JSON.parse(requestJson);
const segmentsPerHour = Math.round(3600 / Number(segmentSecondsArg));
const hours = Number(hoursArg);

const wchar = () => Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const liveHeap = () => {
  globalThis.gc();
  globalThis.gc();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss };
};

const dump = new HlsDump(request, {
  storage: new LocalStorage(),
  client: new OriginClient({
    retry: { maxRetries: 5, retryDelayMs: 20, maxRetryDelayMs: 200, backoff: 'exponential' },
    ...(process.env.DAY_DEBUG
      ? { onRetry: (e) => console.error(`retry ${e.url} ${e.attempt} ${e.error?.message}`) }
      : {}),
  }),
});
let segments = 0;
let chunklistWrites = 0;
dump.on((event) => {
  if (process.env.DAY_DEBUG && event.type === 'gap')
    console.error(`gap ${event.chunklist} ${event.msn} ${event.reason}`);
  if (event.type === 'file' && event.kind === 'segment') segments++;
  if (event.type === 'file' && event.kind === 'chunklist') chunklistWrites++;
});
await dump.start();

let hour = 0;
let firstMsns;
let last = { cpu: cpuSeconds(), bytes: wchar(), segments, at: performance.now() };
const heapAtStart = liveHeap();
process.send({ type: 'start', heap: heapAtStart });
if (process.env.DAY_DEBUG)
  setInterval(
    () =>
      console.error(
        JSON.stringify(dump.progress().renditions.map((r) => [r.segments, r.lastMsn, r.gaps])),
      ),
    3000,
  ).unref();
const timer = setInterval(async () => {
  const progress = dump.progress();
  // Media time covered, by sequence number: a segment lost (a gap) still moves the hour on.
  if (progress.renditions.some((r) => r.lastMsn === undefined)) return;
  firstMsns ??= progress.renditions.map((r) => r.lastMsn - r.segments - r.gaps + 1);
  const least = Math.min(...progress.renditions.map((r, i) => r.lastMsn - firstMsns[i] + 1));
  if (least < (hour + 1) * segmentsPerHour) return;
  hour++;
  const now = { cpu: cpuSeconds(), bytes: wchar(), segments, at: performance.now() };
  const heap = liveHeap();
  const chunklistBytes = await Promise.all(
    progress.renditions.map(async (r) => (await stat(join(request.outputPath, r.chunklist))).size),
  );
  const n = now.segments - last.segments;
  process.send({
    type: 'hour',
    hour,
    segments: n,
    cpuPerSegmentMs: ((now.cpu - last.cpu) * 1000) / n,
    bytesPerSegment: (now.bytes - last.bytes) / n,
    realSeconds: (now.at - last.at) / 1000,
    heap,
    chunklistEntries: progress.renditions.map((r) => r.segments),
    chunklistBytes,
    gaps: progress.gaps,
  });
  last = { ...now, cpu: cpuSeconds(), bytes: wchar() }; // the probe's own GC and stat not counted
  if (hour >= hours) {
    clearInterval(timer);
    const end = await dump.stop();
    process.send({ type: 'done', status: end.status, gaps: end.gaps, chunklistWrites });
    process.exit(0);
  }
}, 50);
