// One dump in a process of its own, for bench/day-sim.ts: the engine (HlsDump, LocalStorage,
// OriginClient) exactly as a worker runs it, without Redis, so what is measured is what a dump
// costs as it grows. Started with --expose-gc. At every media hour (every rendition has another
// hour of segments) it sends the hour's CPU, bytes written (/proc/self/io wchar) and segments, and
// the live heap after a full GC.
//
//   fork('day-dump.ts', [JSON request, segmentSeconds, hours]) → DayDumpMessage ... (day-sim.ts
//   imports this file for its types alone)
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { HlsDump, type DumpRequest } from '@hlsdump/dump-engine';
import { OriginClient, type RetryEvent } from '@hlsdump/hls-client';
import { LocalStorage } from '@hlsdump/storage';

export interface LiveHeap {
  heapUsed: number;
  external: number;
  rss: number;
}

/** One media hour of the dump: its cost per segment, what it wrote, and its heap at the end. */
export interface HourReport {
  type: 'hour';
  hour: number;
  segments: number;
  cpuPerSegmentMs: number;
  bytesPerSegment: number;
  realSeconds: number;
  heap: LiveHeap;
  chunklistEntries: number[];
  chunklistBytes: number[];
  gaps: number;
}

export type DayDumpMessage =
  | { type: 'start'; heap: LiveHeap }
  | HourReport
  | { type: 'done'; status: string; gaps: number; chunklistWrites: number };

const [requestJson = '', segmentSecondsArg, hoursArg] = process.argv.slice(2);
const request = JSON.parse(requestJson) as DumpRequest;
const send = (message: DayDumpMessage): void => {
  process.send!(message);
};
const segmentsPerHour = Math.round(3600 / Number(segmentSecondsArg));
const hours = Number(hoursArg);

const wchar = () => Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
// Started with --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc!;
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const liveHeap = (): LiveHeap => {
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss };
};

const dump = new HlsDump(request, {
  storage: new LocalStorage(),
  client: new OriginClient({
    retry: { maxRetries: 5, retryDelayMs: 20, maxRetryDelayMs: 200, backoff: 'exponential' },
    ...(process.env.DAY_DEBUG
      ? {
          onRetry: (e: RetryEvent) =>
            console.error(`retry ${e.url} ${e.attempt} ${String(e.error)}`),
        }
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
let firstMsns: number[] | undefined;
let last = { cpu: cpuSeconds(), bytes: wchar(), segments, at: performance.now() };
const heapAtStart = liveHeap();
send({ type: 'start', heap: heapAtStart });
if (process.env.DAY_DEBUG)
  setInterval(
    () =>
      console.error(
        JSON.stringify(dump.progress().renditions.map((r) => [r.segments, r.lastMsn, r.gaps])),
      ),
    3000,
  ).unref();
const timer = setInterval(() => void probe(), 50);

async function probe(): Promise<void> {
  const progress = dump.progress();
  // Media time covered, by sequence number: a segment lost (a gap) still moves the hour on.
  const lastMsns = progress.renditions.map((r) => r.lastMsn);
  if (!lastMsns.every((msn): msn is number => msn !== undefined)) return;
  const first = (firstMsns ??= progress.renditions.map(
    (r, i) => lastMsns[i]! - r.segments - r.gaps + 1,
  ));
  const least = Math.min(...lastMsns.map((msn, i) => msn - first[i]! + 1));
  if (least < (hour + 1) * segmentsPerHour) return;
  hour++;
  const now = { cpu: cpuSeconds(), bytes: wchar(), segments, at: performance.now() };
  const heap = liveHeap();
  const chunklistBytes = await Promise.all(
    progress.renditions.map(async (r) => (await stat(join(request.outputPath, r.chunklist))).size),
  );
  const n = now.segments - last.segments;
  send({
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
    send({ type: 'done', status: end.status, gaps: end.gaps, chunklistWrites });
    process.exit(0);
  }
}
