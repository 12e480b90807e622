import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createTestOrigin, type TestOrigin } from './origin-server.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 20 });
});
afterAll(() => origin.close());

async function getText(
  url: string | URL,
): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const uris = (playlist: string): string[] =>
  playlist.split('\n').filter((l) => l && !l.startsWith('#'));

describe('master playlists', () => {
  it('llhls.m3u8 lists 2 video variants and an audio group whose relative URIs answer 200', async () => {
    const control = origin.addStream('app', 'master');
    expect(control.masterUrl).toBe(`${origin.url}/app/master/llhls.m3u8`);
    const { status, text, type } = await getText(control.masterUrl);
    expect(status).toBe(200);
    expect(type).toBe('application/vnd.apple.mpegurl');
    expect(text.startsWith('#EXTM3U\n')).toBe(true);
    expect(text).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
    const media = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:'));
    expect(media).toHaveLength(1);
    expect(media[0]).toMatch(/TYPE=AUDIO,GROUP-ID="audio"/);
    const variants = text.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(variants).toHaveLength(2);
    expect(variants[0]).toMatch(
      /RESOLUTION=320x180.*CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",AUDIO="audio"/,
    );
    expect(variants[1]).toMatch(/RESOLUTION=160x90/);

    const audioUri = /URI="([^"]+)"/.exec(media[0]!)![1]!;
    const chunklists = [...uris(text), audioUri];
    expect(chunklists).toHaveLength(3);
    for (const uri of chunklists) {
      expect(uri).toMatch(/^chunklist_\d+_(video|audio)_[0-9a-f]+_llhls\.m3u8$/);
      const chunklist = await getText(new URL(uri, control.masterUrl));
      expect(chunklist.status).toBe(200);
      expect(chunklist.text).toContain('#EXT-X-MAP:URI="init_');
    }
    expect(new URL(uris(text)[0]!, control.masterUrl).href).toBe(control.chunklistUrl('video_0'));
  });

  it('abr.m3u8 carries only video_0 plus audio', async () => {
    const control = origin.addStream('app', 'abr');
    const { status, text } = await getText(control.abrUrl);
    expect(status).toBe(200);
    expect(uris(text)).toEqual([control.chunklistUrl('video_0').split('/').pop()]);
    expect(text).toContain('#EXT-X-MEDIA:TYPE=AUDIO');
  });

  it('unknown streams, files and other stream keys answer 404', async () => {
    const control = origin.addStream('app', 'keys', { streamKey: 'abc' });
    expect((await fetch(`${origin.url}/app/nope/llhls.m3u8`)).status).toBe(404);
    expect((await fetch(`${origin.url}/app/keys/whatever.m3u8`)).status).toBe(404);
    expect((await fetch(`${origin.url}/app/keys/chunklist_0_video_other_llhls.m3u8`)).status).toBe(
      404,
    );
    expect((await fetch(control.chunklistUrl('video_0'))).status).toBe(200);
    expect(control.chunklistUrl('video_0')).toBe(
      `${origin.url}/app/keys/chunklist_0_video_abc_llhls.m3u8`,
    );
  });
});

describe('media playlists', () => {
  it('llhls chunklist carries the LL-HLS tags in OME order with a full window', async () => {
    const control = origin.addStream('app', 'll', { windowSegments: 6, startSegments: 8 });
    const { status, text } = await getText(control.chunklistUrl('video_0'));
    expect(status).toBe(200);
    const lines = text.trim().split('\n');
    expect(lines.slice(0, 7).map((l) => l.split(':')[0])).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION',
      '#EXT-X-TARGETDURATION',
      '#EXT-X-SERVER-CONTROL',
      '#EXT-X-PART-INF',
      '#EXT-X-MEDIA-SEQUENCE',
      '#EXT-X-MAP',
    ]);
    expect(text).toContain('#EXT-X-VERSION:6\n');
    expect(text).toContain('#EXT-X-TARGETDURATION:4\n');
    expect(text).toMatch(/#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3\.00\d+\n/);
    expect(text).toContain('#EXT-X-PART-INF:PART-TARGET=1.002667\n');
    const { completeSegments, firstMsn } = control.status('video_0');
    expect(completeSegments).toBeGreaterThanOrEqual(8);
    expect(text).toContain(`#EXT-X-MEDIA-SEQUENCE:${firstMsn}\n`);
    const segs = lines.filter((l) => l.startsWith('seg_'));
    expect(segs.length).toBe(6);
    expect(segs[0]).toBe(`seg_0_${firstMsn}_video_${control.streamKey}_llhls.m4s`);
    expect(
      lines.filter((l) => l.startsWith('#EXTINF:')).every((l) => l === '#EXTINF:4.000000,'),
    ).toBe(true);
    // One PDT per complete segment, plus one for the in-progress segment once it has parts.
    const pdtCount = lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')).length;
    expect([segs.length, segs.length + 1]).toContain(pdtCount);
    expect(text).toMatch(
      /#EXT-X-PART:DURATION=1\.000000,URI="part_0_\d+_\d_video_[0-9a-f]+_llhls\.m4s",INDEPENDENT=YES/,
    );
    expect(lines.at(-1)).toMatch(/^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_\d+_\d_video_/);
    expect(text).not.toContain('#EXT-X-ENDLIST');

    const pdts = lines
      .filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
      .map((l) => Date.parse(l.slice(25)));
    expect(pdts[1]! - pdts[0]!).toBe(4000);
    expect(new Date(pdts[0]!)).toEqual(control.programDateTime('video_0', firstMsn));

    // Audio parts are AAC-frame aligned, so real durations differ from 1 s.
    const audio = await getText(control.chunklistUrl('audio_0'));
    expect(audio.text).toMatch(/#EXTINF:4\.010667,|#EXTINF:3\.989333,/);
    expect(audio.text).not.toContain('INDEPENDENT=YES');
  });

  it('hls mode has whole segments only: no parts, preload hint or server control', async () => {
    const control = origin.addStream('app', 'plain', { mode: 'hls', windowSegments: 5 });
    const { text } = await getText(control.chunklistUrl('video_1'));
    expect(text).not.toMatch(/EXT-X-PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF/);
    expect(text.split('\n').filter((l) => l.startsWith('seg_'))).toHaveLength(5);
    const { completeSegments } = control.status('video_1');
    expect((await fetch(control.segmentUrl('video_1', completeSegments - 1))).status).toBe(200);
    expect((await fetch(control.partUrl('video_1', completeSegments - 1, 0))).status).toBe(404);
    // Delivery directives are ignored rather than held.
    const ahead = await fetch(
      `${control.chunklistUrl('video_1')}?_HLS_msn=${completeSegments + 1}`,
    );
    expect(ahead.status).toBe(200);
    await ahead.text();
  });

  it('programDateTime: false drops the PDT tags', async () => {
    const control = origin.addStream('app', 'nopdt', { programDateTime: false });
    expect((await getText(control.chunklistUrl('video_0'))).text).not.toContain(
      'PROGRAM-DATE-TIME',
    );
  });
});
