import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { createTestOrigin, type TestOrigin } from './origin-server.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 20 });
});
afterAll(() => origin.close());

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

/** Raw node:http GET recording how much body arrived and how it ended. */
function rawGet(url: string): Promise<{
  status: number;
  declared: number;
  received: number;
  error?: Error;
  firstChunkMs: number;
  totalMs: number;
}> {
  return new Promise((resolve) => {
    const started = performance.now();
    let firstChunkMs = -1;
    const req = request(url, (res) => {
      let received = 0;
      const done = (error?: Error): void =>
        resolve({
          status: res.statusCode ?? 0,
          declared: Number(res.headers['content-length']),
          received,
          ...(error ? { error } : {}),
          firstChunkMs,
          totalMs: performance.now() - started,
        });
      res.on('data', (chunk: Buffer) => {
        if (firstChunkMs < 0) firstChunkMs = performance.now() - started;
        received += chunk.length;
      });
      res.on('end', () => done());
      res.on('error', (error) => done(error));
      res.on('aborted', () => done(new Error('aborted')));
    });
    req.on('error', (error) =>
      resolve({ status: 0, declared: 0, received: 0, error, firstChunkMs, totalMs: 0 }),
    );
    req.end();
  });
}

describe('faults', () => {
  it('missingSegments: listed, but the segment and its parts answer 404', async () => {
    const control = origin.addStream('faults', 'missing');
    const msn = control.status('video_0').completeSegments - 2;
    control.missingSegments([msn]);
    const playlist = await (await fetch(control.chunklistUrl('video_0'))).text();
    expect(playlist).toContain(`seg_0_${msn}_video_`);
    expect(await status(control.segmentUrl('video_0', msn))).toBe(404);
    expect(await status(control.partUrl('video_0', msn, 0))).toBe(404);
    expect(await status(control.segmentUrl('video_0', msn - 1))).toBe(200);
    expect(await status(control.segmentUrl('video_1', msn))).toBe(404);
    // Out of the window is gone too.
    expect(
      await status(control.segmentUrl('video_0', control.status('video_0').firstMsn - 1)),
    ).toBe(404);
  });

  it('failNext: a burst of N errors, then 200; only matching paths count; requests are counted', async () => {
    const control = origin.addStream('faults', 'burst');
    control.failNext(3, 503, /chunklist_0_/);
    control.failNext(1, 500);
    const url = control.chunklistUrl('video_0');
    expect(await status(control.chunklistUrl('audio_0'))).toBe(500); // the unscoped burst
    expect([await status(url), await status(url), await status(url), await status(url)]).toEqual([
      503, 503, 503, 200,
    ]);
    expect(control.requestCount('chunklist')).toBe(5);
    expect(control.requestCount('chunklist', /chunklist_0_/)).toBe(4);
    expect(control.requests.filter((r) => r.kind === 'chunklist').map((r) => r.status)).toEqual([
      500, 503, 503, 503, 200,
    ]);
  });

  it('end(): ENDLIST after the last complete segment, no preload hint, nothing further', async () => {
    const control = origin.addStream('faults', 'end');
    control.end();
    const { completeSegments } = control.status('audio_0');
    const text = await (await fetch(control.chunklistUrl('audio_0'))).text();
    expect(text).toMatch(
      new RegExp(`seg_2_${completeSegments - 1}_audio_[0-9a-f]+_llhls\\.m4s\\n#EXT-X-ENDLIST\\n$`),
    );
    expect(text).not.toContain('PRELOAD-HINT');
    // Every rendition ends at the same MSN, and it stays put while the clock runs.
    expect(control.status('video_0').completeSegments).toBe(completeSegments);
    await origin.clock.waitFor(5);
    expect(control.status('video_1').completeSegments).toBe(completeSegments);
    expect(await status(control.segmentUrl('audio_0', completeSegments))).toBe(404);
    expect(await status(control.partUrl('audio_0', completeSegments, 0))).toBe(404);
    expect(await control.waitForSegment(completeSegments)).toBe(false);
  });

  it('disappear(): 404 for playlists and media; restore() brings it back', async () => {
    const control = origin.addStream('faults', 'gone');
    control.disappear();
    expect(await status(control.masterUrl)).toBe(404);
    expect(await status(control.chunklistUrl('video_0'))).toBe(404);
    expect(await status(control.initUrl('video_0'))).toBe(404);
    expect(
      await status(control.segmentUrl('video_0', control.status('video_0').completeSegments - 1)),
    ).toBe(404);
    control.restore();
    expect(await status(control.masterUrl)).toBe(200);
  });

  it('dropConnection: the client sees the body cut short mid-way', async () => {
    const control = origin.addStream('faults', 'drop');
    const msn = control.status('video_0').completeSegments - 1;
    control.dropConnection(/seg_0_/);
    const cut = await rawGet(control.segmentUrl('video_0', msn));
    expect(cut.status).toBe(200);
    expect(cut.error).toBeDefined();
    expect(cut.received).toBeGreaterThan(0);
    expect(cut.received).toBeLessThan(cut.declared);
    // fetch() rejects while reading the body.
    control.dropConnection(/seg_0_/);
    const res = await fetch(control.segmentUrl('video_0', msn));
    await expect(res.arrayBuffer()).rejects.toThrow();
    // Used up: the next one is whole.
    const whole = await rawGet(control.segmentUrl('video_0', msn));
    expect(whole.error).toBeUndefined();
    expect(whole.received).toBe(whole.declared);
    expect(control.requests.at(-3)!.status).toBe(0);
  });

  it('stall: headers and half the body, then a pause, then the rest', async () => {
    const control = origin.addStream('faults', 'stall');
    const msn = control.status('video_1').completeSegments - 1;
    control.stall(/seg_1_/, 300);
    const slow = await rawGet(control.segmentUrl('video_1', msn));
    expect(slow.error).toBeUndefined();
    expect(slow.received).toBe(slow.declared);
    expect(slow.totalMs - slow.firstChunkMs).toBeGreaterThanOrEqual(250);
  });

  it('setLatency delays every response of the stream', async () => {
    const control = origin.addStream('faults', 'latency');
    control.setLatency(200);
    const started = performance.now();
    expect(await status(control.masterUrl)).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('discontinuityAt puts EXT-X-DISCONTINUITY before that segment and counts it once it slides out', async () => {
    const control = origin.addStream('faults', 'disco', { windowSegments: 3, partsPerSegment: 1 });
    const { completeSegments, firstMsn } = control.status('video_0');
    control.discontinuityAt(completeSegments - 1);
    control.discontinuityAt(firstMsn - 1);
    const text = await (await fetch(control.chunklistUrl('video_0'))).text();
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
    const lines = text.split('\n');
    const at = lines.indexOf('#EXT-X-DISCONTINUITY');
    expect(lines.slice(at).find((l) => l.startsWith('seg_'))).toMatch(
      new RegExp(`^seg_0_${completeSegments - 1}_`),
    );
  });
});

describe('origin close', () => {
  it('ends held blocking requests and closes connections', async () => {
    const own = await createTestOrigin({ speed: 1 });
    const control = own.addStream('a', 'b');
    const { completeSegments } = control.status('video_0');
    const held = fetch(`${control.chunklistUrl('video_0')}?_HLS_msn=${completeSegments + 2}`).then(
      (res) => res.status,
      () => 'error',
    );
    // Wait until the server has actually received the held request.
    while (control.requestCount('chunklist') === 0) await new Promise((r) => setImmediate(r));
    await own.close();
    expect([503, 'error']).toContain(await held);
  });
});
