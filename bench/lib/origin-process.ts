// The test origin in a process of its own, so its CPU is measured apart from hlsdump's and it never
// competes with the bench driver's event loop. Driven over IPC by bench/lib/origin-host.mjs.
//
//   fork('origin-process.mjs', ['--speed', '1'])   → { type: 'ready', url }
//   { id, op: 'add', app, streams: [name...], options }  → { id, result: [{ stream, masterUrl, key }] }
//   { id, op: 'completedAt', queries: [[stream, trackIndex, msn]...] } → { id, result: [epochMs...] }
//   { id, op: 'requests', stream, kind, userAgent, sinceMs } → { id, result: [[track, msn, wallMs]...] }
//   { id, op: 'segmentUrls', streams, perRendition } → { id, result: [url...] }
//   { id, op: 'close' }
import process from 'node:process';
import { parseArgs } from 'node:util';
import { createTestOrigin, RENDITION_IDS } from '@hlsdump/test-origin';

const { values } = parseArgs({
  options: { speed: { type: 'string', default: '1' }, port: { type: 'string', default: '0' } },
});
const origin = await createTestOrigin({ speed: Number(values.speed), port: Number(values.port) });
const streams = new Map();
const SEGMENT = /\/seg_(\d+)_(\d+)_/;

const ops = {
  /**
   * Adds streams. With `spreadMs`, their clocks are spread evenly over that span (real live streams
   * are not phase-aligned: their segments do not all complete at the same instant).
   */
  async add({ app, streams: names, options, spreadMs = 0 }) {
    const out = [];
    for (const [i, name] of names.entries()) {
      if (spreadMs > 0 && i > 0) await new Promise((r) => setTimeout(r, spreadMs / names.length));
      const control = origin.addStream(app, name, options);
      streams.set(name, control);
      out.push({ stream: name, masterUrl: control.masterUrl, key: control.streamKey });
    }
    return out;
  },
  completedAt({ queries }) {
    return queries.map(([name, track, msn]) => {
      const control = streams.get(name);
      const rendition = RENDITION_IDS[track];
      return control && rendition ? control.segmentCompletedAt(rendition, msn) : null;
    });
  },
  /** Segment requests of one stream, optionally of one client (User-Agent prefix), since a time. */
  requests({ stream, userAgent, sinceMs = 0 }) {
    const control = streams.get(stream);
    if (!control) return [];
    const out = [];
    for (const r of control.requests) {
      if (r.kind !== 'segment' || (r.wallMs ?? 0) < sinceMs) continue;
      if (userAgent !== undefined && !(r.userAgent ?? '').startsWith(userAgent)) continue;
      const m = SEGMENT.exec(r.path);
      if (m) out.push([Number(m[1]), Number(m[2]), r.wallMs, r.status]);
    }
    return out;
  },
  /** Requests by client (User-Agent up to the first '/') and kind, over [sinceMs, untilMs]. */
  requestCounts({ streams: names, sinceMs, untilMs }) {
    const counts = {};
    for (const name of names) {
      for (const r of streams.get(name)?.requests ?? []) {
        if ((r.wallMs ?? 0) < sinceMs || (r.wallMs ?? 0) > untilMs) continue;
        const client = (r.userAgent ?? 'unknown').split('/')[0];
        counts[client] ??= {};
        counts[client][r.kind] = (counts[client][r.kind] ?? 0) + 1;
      }
    }
    return counts;
  },
  /** Per stream and rendition, the newest `perRendition` complete segments still in the window. */
  segmentUrls({ streams: names, perRendition }) {
    const urls = [];
    for (const name of names) {
      const control = streams.get(name);
      for (const id of RENDITION_IDS) {
        const { completeSegments, firstMsn } = control.status(id);
        const from = Math.max(firstMsn, completeSegments - perRendition);
        for (let msn = from; msn < completeSegments; msn++) urls.push(control.segmentUrl(id, msn));
      }
    }
    return urls;
  },
  /** Drops the request logs (they grow with every request). */
  forgetRequests() {
    for (const control of streams.values()) control.requests.length = 0;
    return true;
  },
  async close() {
    await origin.close();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', async (message) => {
  try {
    const result = await ops[message.op](message);
    process.send({ id: message.id, result });
  } catch (error) {
    process.send({ id: message.id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: origin.url });
