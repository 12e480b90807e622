// The test origin in a process of its own, so its CPU is measured apart from hlsdump's and it never
// competes with the bench driver's event loop. Driven over IPC by bench/lib/origin-host.ts:
//
//   fork('origin-process.ts', ['--speed', '1'])   → { type: 'ready', url }
//   { id, op, ...args }                             → { id, result } or { id, error }
// with the operations of `ops` below.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { createTestOrigin, RENDITION_IDS, type StreamOptions } from '@hlsdump/test-origin';

const { values } = parseArgs({
  options: { speed: { type: 'string', default: '1' }, port: { type: 'string', default: '0' } },
});
const origin = await createTestOrigin({ speed: Number(values.speed), port: Number(values.port) });
type StreamControl = ReturnType<typeof origin.addStream>;
const streams = new Map<string, StreamControl>();
const SEGMENT = /\/seg_(\d+)_(\d+)_/;

/** Requests by client (User-Agent up to the first '/') and by kind. */
export type RequestCounts = Record<string, Record<string, number>>;

const ops = {
  /**
   * Adds streams. With `spreadMs`, their clocks are spread evenly over that span (real live streams
   * are not phase-aligned: their segments do not all complete at the same instant).
   */
  async add({
    app,
    streams: names,
    options = {},
    spreadMs = 0,
  }: {
    app: string;
    streams: string[];
    options?: StreamOptions;
    spreadMs?: number;
  }) {
    const out: { stream: string; masterUrl: string }[] = [];
    for (const [i, name] of names.entries()) {
      if (spreadMs > 0 && i > 0) await new Promise((r) => setTimeout(r, spreadMs / names.length));
      const control = origin.addStream(app, name, options);
      streams.set(name, control);
      out.push({ stream: name, masterUrl: control.masterUrl });
    }
    return out;
  },
  /** When the origin completed each [stream, track index, msn], epoch ms (null: unknown). */
  completedAt({ queries }: { queries: [string, number, number][] }) {
    return queries.map(([name, track, msn]) => {
      const control = streams.get(name);
      const rendition = RENDITION_IDS[track];
      return control && rendition ? control.segmentCompletedAt(rendition, msn) : null;
    });
  },
  /** Segment requests of one stream, optionally of one client (User-Agent prefix), since a time. */
  requests({
    stream,
    userAgent,
    sinceMs = 0,
  }: {
    stream: string;
    userAgent?: string;
    sinceMs?: number;
  }) {
    const control = streams.get(stream);
    if (!control) return [];
    const out: [track: number, msn: number, wallMs: number][] = [];
    for (const r of control.requests) {
      if (r.kind !== 'segment' || (r.wallMs ?? 0) < sinceMs) continue;
      if (userAgent !== undefined && !(r.userAgent ?? '').startsWith(userAgent)) continue;
      const m = SEGMENT.exec(r.path);
      if (m) out.push([Number(m[1]), Number(m[2]), r.wallMs ?? 0]);
    }
    return out;
  },
  /** Requests by client and kind over [sinceMs, untilMs], and the TCP connections opened. */
  requestCounts({
    streams: names,
    sinceMs,
    untilMs,
  }: {
    streams: string[];
    sinceMs: number;
    untilMs: number;
  }) {
    const counts: RequestCounts = {};
    // A connection counts as opened in the window when its first request (to any stream) is.
    const firstRequest = new Map<number, number>();
    for (const control of streams.values()) {
      for (const r of control.requests) {
        if (r.connection === undefined) continue;
        const first = firstRequest.get(r.connection);
        if (first === undefined || (r.wallMs ?? 0) < first)
          firstRequest.set(r.connection, r.wallMs ?? 0);
      }
    }
    const counted = new Set<number>();
    for (const name of names) {
      for (const r of streams.get(name)?.requests ?? []) {
        if ((r.wallMs ?? 0) < sinceMs || (r.wallMs ?? 0) > untilMs) continue;
        const client = (r.userAgent ?? 'unknown').split('/')[0]!;
        const byKind = (counts[client] ??= {});
        byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
        if (r.connection !== undefined && !counted.has(r.connection)) {
          counted.add(r.connection);
          if (firstRequest.get(r.connection)! >= sinceMs) {
            byKind['connections opened'] = (byKind['connections opened'] ?? 0) + 1;
          }
        }
      }
    }
    return counts;
  },
  /** Per stream and rendition, the newest `perRendition` complete segments still in the window. */
  segmentUrls({ streams: names, perRendition }: { streams: string[]; perRendition: number }) {
    const urls: string[] = [];
    for (const name of names) {
      const control = streams.get(name);
      if (!control) continue;
      for (const id of RENDITION_IDS) {
        const { completeSegments, firstMsn } = control.status(id);
        const from = Math.max(firstMsn, completeSegments - perRendition);
        for (let msn = from; msn < completeSegments; msn++) urls.push(control.segmentUrl(id, msn));
      }
    }
    return urls;
  },
  /** Drops the request logs (they grow with every request). */
  forgetRequests(_: Record<string, never>) {
    // The log is read-only to clients of the origin; this process owns it and empties it in place.
    for (const control of streams.values()) (control.requests as unknown[]).length = 0;
    return true;
  },
  async close(_: Record<string, never>) {
    await origin.close();
    setImmediate(() => process.exit(0));
    return true;
  },
};

export type OriginOps = typeof ops;

// Forked with an IPC channel (origin-host.ts imports this file for its types alone).
const send = (message: object) => process.send!(message);
async function answer(message: { id: number; op: keyof OriginOps }): Promise<void> {
  try {
    const run = ops[message.op] as (args: unknown) => unknown;
    send({ id: message.id, result: await run(message) });
  } catch (error) {
    send({ id: message.id, error: String((error as Error)?.stack ?? error) });
  }
}
process.on('message', (message: { id: number; op: keyof OriginOps }) => void answer(message));
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', url: origin.url });
