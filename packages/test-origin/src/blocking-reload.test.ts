import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createTestOrigin, type TestOrigin } from './origin-server.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 10 });
});
afterAll(() => origin.close());

const lastPart = (playlist: string): { msn: number; part: number } => {
  const parts = [...playlist.matchAll(/#EXT-X-PART:[^\n]*URI="part_\d+_(\d+)_(\d+)_/g)];
  const last = parts.at(-1);
  if (!last) throw new Error('no parts');
  return { msn: Number(last[1]), part: Number(last[2]) };
};

describe('blocking playlist reload', () => {
  it('holds _HLS_msn/_HLS_part of the next part until the clock reaches its end', async () => {
    const control = origin.addStream('live', 'block');
    const first = await (await fetch(control.chunklistUrl('video_0'))).text();
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_(\d+)_(\d+)_/.exec(first);
    expect(hint).not.toBeNull();
    const msn = Number(hint![1]);
    const part = Number(hint![2]);
    const index = msn * control.partsPerSegment + part;
    // Part `index` ends at stream time index * 1 s (video parts are exactly 1 s).
    const readyAt = origin.clock.now() + (index + 1 - control.streamTime());

    const res = await fetch(`${control.chunklistUrl('video_0')}?_HLS_msn=${msn}&_HLS_part=${part}`);
    const answeredAt = origin.clock.now();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(answeredAt).toBeGreaterThanOrEqual(readyAt - 1e-6);
    // Answered promptly: before the next part (1 media second = 100 ms real) ends.
    expect(answeredAt - readyAt).toBeLessThan(1);
    expect(lastPart(text)).toEqual({ msn, part });
    expect(text).toContain(`#EXT-X-PART:DURATION=1.000000,URI="part_0_${msn}_${part}_video_`);
  });

  it('holds _HLS_msn alone until that whole segment is complete', async () => {
    const control = origin.addStream('live', 'block-msn');
    const { completeSegments } = control.status('video_1');
    const res = await fetch(`${control.chunklistUrl('video_1')}?_HLS_msn=${completeSegments}`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(control.status('video_1').completeSegments).toBeGreaterThan(completeSegments);
    expect(text).toContain(`\nseg_1_${completeSegments}_video_${control.streamKey}_llhls.m4s\n`);
  });

  it('treats _HLS_part past the last part as part 0 of the next segment', async () => {
    const control = origin.addStream('live', 'block-wrap');
    const { completeSegments } = control.status('video_0');
    const res = await fetch(
      `${control.chunklistUrl('video_0')}?_HLS_msn=${completeSegments}&_HLS_part=${control.partsPerSegment}`,
    );
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(lastPart(text).msn).toBeGreaterThanOrEqual(completeSegments + 1);
  });

  it('answers 400 for an _HLS_msn more than two segments ahead, or malformed', async () => {
    const control = origin.addStream('live', 'block-far');
    const { completeSegments } = control.status('audio_0');
    const far = await fetch(`${control.chunklistUrl('audio_0')}?_HLS_msn=${completeSegments + 3}`);
    expect(far.status).toBe(400);
    await far.text();
    const bad = await fetch(`${control.chunklistUrl('audio_0')}?_HLS_msn=x&_HLS_part=1`);
    expect(bad.status).toBe(400);
    await bad.text();
  });

  it('holds a request for the preload-hinted part until it exists, then serves its bytes', async () => {
    const control = origin.addStream('live', 'hint');
    const text = await (await fetch(control.chunklistUrl('audio_0'))).text();
    const uri = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)![1]!;
    const [, msn, part] = /^part_\d+_(\d+)_(\d+)_/.exec(uri)!.map(Number);
    const before = control.status('audio_0');
    expect(before.completeSegments * control.partsPerSegment + before.partsInProgress).toBe(
      msn! * control.partsPerSegment + part!,
    );

    const res = await fetch(new URL(uri, control.chunklistUrl('audio_0')));
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(control.partBytes('audio_0', msn!, part!))).toBe(true);
    // A part two ahead of the hint is not promised, so it is simply not there.
    const after = control.status('audio_0');
    const futureIndex =
      after.completeSegments * control.partsPerSegment + after.partsInProgress + 2;
    const future = await fetch(
      control.partUrl(
        'audio_0',
        Math.floor(futureIndex / control.partsPerSegment),
        futureIndex % control.partsPerSegment,
      ),
    );
    expect(future.status).toBe(404);
    await future.text();
  });

  it('releases a held request with ENDLIST when the stream ends, and 404 when it disappears', async () => {
    const control = origin.addStream('live', 'release', { partsPerSegment: 8 });
    const { completeSegments } = control.status('video_0');
    const held = fetch(`${control.chunklistUrl('video_0')}?_HLS_msn=${completeSegments + 2}`);
    control.end();
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/#EXT-X-ENDLIST\n$/);

    const other = origin.addStream('live', 'release-2', { partsPerSegment: 8 });
    const heldPart = fetch(
      `${other.chunklistUrl('video_0')}?_HLS_msn=${other.status('video_0').completeSegments + 2}`,
    );
    other.disappear();
    expect((await heldPart).status).toBe(404);
  });
});
