import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from './media-playlist.js';

const URL_ = 'http://origin.test/app/stream/chunklist.m3u8';

/** A small LL-HLS playlist: segments [first, complete) with 4 parts listed for the last 2, then `parts` in-progress parts. */
function ll(first: number, complete: number, parts: number, extra: string[] = []): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5',
    '#EXT-X-PART-INF:PART-TARGET=0.5',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
  ];
  for (let msn = first; msn < complete; msn++) {
    if (msn >= complete - 2)
      for (let p = 0; p < 4; p++) lines.push(`#EXT-X-PART:DURATION=0.5,URI="p${msn}.${p}.m4s"`);
    lines.push('#EXTINF:2,', `s${msn}.m4s`);
  }
  for (let p = 0; p < parts; p++)
    lines.push(`#EXT-X-PART:DURATION=0.5,URI="p${complete}.${p}.m4s"`);
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p${complete}.${parts}.m4s"`, ...extra);
  return lines.join('\n');
}

function plain(first: number, complete: number, extra: string[] = []): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:6', `#EXT-X-MEDIA-SEQUENCE:${first}`];
  for (let msn = first; msn < complete; msn++) lines.push('#EXTINF:6,', `s${msn}.ts`);
  return [...lines, ...extra].join('\n');
}

describe('RenditionDetails.nextBlockingTarget', () => {
  it('asks for the part after the last listed one', () => {
    expect(parseMediaPlaylist(ll(10, 14, 2), URL_).nextBlockingTarget()).toEqual({
      msn: 14,
      part: 2,
    });
  });

  it('asks for part 0 of the next segment when a segment just completed', () => {
    const details = parseMediaPlaylist(ll(10, 14, 0), URL_);
    expect(details.parts).toEqual([]);
    expect(details.lowLatency).toBe(true);
    expect(details.nextBlockingTarget()).toEqual({ msn: 14, part: 0 });
  });

  it('asks for the next segment when there are no parts', () => {
    const details = parseMediaPlaylist(
      plain(3, 7, ['#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES']),
      URL_,
    );
    expect(details.canBlockReload).toBe(true);
    expect(details.lowLatency).toBe(false);
    expect(details.nextBlockingTarget()).toEqual({ msn: 7 });
  });

  it('handles a playlist with no complete segment yet', () => {
    const details = parseMediaPlaylist(ll(0, 0, 1), URL_);
    expect(details.startSn).toBe(0);
    expect(details.endSn).toBe(-1);
    expect(details.nextBlockingTarget()).toEqual({ msn: 0, part: 1 });
  });
});

describe('RenditionDetails.reloaded', () => {
  it('reports everything as new on a first load', () => {
    const first = parseMediaPlaylist(ll(10, 14, 1), URL_);
    const change = first.reloaded(undefined);
    expect(change.advanced).toBe(true);
    expect(change.newSegments.map((s) => s.msn)).toEqual([10, 11, 12, 13]);
  });

  it('follows a sequence of LL-HLS reloads: parts only, then a segment, then a sliding window', () => {
    const loads = [
      ll(10, 14, 1),
      ll(10, 14, 2),
      ll(10, 14, 3),
      ll(11, 15, 0),
      ll(11, 15, 0),
      ll(13, 17, 1),
    ].map((t) => parseMediaPlaylist(t, URL_));
    const changes = loads.map((d, i) => d.reloaded(loads[i - 1]));
    expect(changes.map((c) => c.advanced)).toEqual([true, false, false, true, false, true]);
    expect(changes.map((c) => c.partsAdvanced)).toEqual([true, true, true, true, false, true]);
    expect(changes.map((c) => c.newSegments.map((s) => s.msn))).toEqual([
      [10, 11, 12, 13],
      [],
      [],
      [14],
      [],
      [15, 16],
    ]);
    expect(loads.map((d) => d.nextBlockingTarget())).toEqual([
      { msn: 14, part: 1 },
      { msn: 14, part: 2 },
      { msn: 14, part: 3 },
      { msn: 15, part: 0 },
      { msn: 15, part: 0 },
      { msn: 17, part: 1 },
    ]);
    // the parts of a completed segment stay attached to it
    expect(loads[3]!.segments.at(-1)!.parts.map((p) => p.uri)).toEqual(
      [0, 1, 2, 3].map((p) => `http://origin.test/app/stream/p14.${p}.m4s`),
    );
  });

  it('does not treat a stale (older) playlist as news', () => {
    const newer = parseMediaPlaylist(plain(5, 10), URL_);
    const stale = parseMediaPlaylist(plain(4, 9), URL_);
    expect(stale.reloaded(newer)).toMatchObject({
      advanced: false,
      newSegments: [],
      restarted: false,
    });
  });

  it('reports ENDLIST as an advance even without new segments', () => {
    const live = parseMediaPlaylist(plain(5, 10), URL_);
    const ended = parseMediaPlaylist(plain(5, 10, ['#EXT-X-ENDLIST']), URL_);
    expect(ended.reloaded(live)).toMatchObject({ advanced: true, newSegments: [] });
    expect(ended.reloaded(ended).advanced).toBe(false);
  });

  it('detects a restarted stream whose sequence went back past the old window', () => {
    const before = parseMediaPlaylist(plain(500, 505), URL_);
    const after = parseMediaPlaylist(plain(0, 2), URL_);
    const change = after.reloaded(before);
    expect(change.restarted).toBe(true);
    expect(change.advanced).toBe(true);
    expect(change.newSegments.map((s) => s.msn)).toEqual([0, 1]);
  });
});
