import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewritePlaylistUris } from './master-playlist.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}.m3u8`, import.meta.url), 'utf8');
const toLocal = (absolute: string): string =>
  'local/' + new URL(absolute).pathname.split('/').pop();

describe('rewritePlaylistUris', () => {
  it('rewrites variant lines and EXT-X-MEDIA URIs, keeping every other byte', () => {
    const text = fixture('master-two-variants-audio');
    const seen: string[] = [];
    const out = rewritePlaylistUris(
      text,
      'https://origin.example.com/app/stream/playlist.m3u8',
      (u) => {
        seen.push(u);
        return toLocal(u);
      },
    );
    expect(seen).toEqual([
      'https://origin.example.com/app/stream/audio/en/chunklist.m3u8',
      'https://origin.example.com/app/stream/audio/de/chunklist.m3u8',
      'https://origin.example.com/app/stream/video/720p/chunklist.m3u8?session=xyz',
      'https://other.example.com/video/360p/chunklist.m3u8',
    ]);
    const inLines = text.split('\n');
    const outLines = out.split('\n');
    expect(outLines).toHaveLength(inLines.length);
    const changed = inLines.flatMap((line, i) =>
      line === outLines[i] ? [] : [[line, outLines[i]]],
    );
    expect(changed).toEqual([
      [
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/en/chunklist.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="local/chunklist.m3u8"',
      ],
      [
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="audio/de/chunklist.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="local/chunklist.m3u8"',
      ],
      ['video/720p/chunklist.m3u8?session=xyz', 'local/chunklist.m3u8'],
      ['https://other.example.com/video/360p/chunklist.m3u8', 'local/chunklist.m3u8'],
    ]);
  });

  it('rewrites media playlist URIs: segments, MAP, KEY, PART, PRELOAD-HINT, RENDITION-REPORT', () => {
    const text = fixture('ll-hls-ome-chunklist');
    const out = rewritePlaylistUris(
      text,
      'https://o.test/app/stream/chunklist.m3u8',
      (u) => `X(${new URL(u).pathname})`,
    );
    expect(out).toContain('#EXT-X-MAP:URI="X(/app/stream/init_0_video_o_4fe2.m4s)"');
    expect(out).toContain(
      '#EXT-X-PART:DURATION=0.500,URI="X(/app/stream/part_0_122_0_video_o_4fe2_llhls.m4s)",INDEPENDENT=YES',
    );
    expect(out).toContain(
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="X(/app/stream/part_0_123_2_video_o_4fe2_llhls.m4s)"',
    );
    expect(out).toContain(
      '#EXT-X-RENDITION-REPORT:URI="X(/app/stream/chunklist_1_audio_o_4fe2_llhls.m3u8)",LAST-MSN=123,LAST-PART=1',
    );
    expect(out).toContain('\nX(/app/stream/seg_0_120_video_o_4fe2_llhls.m4s)\n');
    expect(out).toContain('#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00.000+00:00');
    const keyed = rewritePlaylistUris(
      fixture('hls-ts-discontinuity'),
      'https://o.test/a/b/p.m3u8',
      (u) => `[${u}]`,
    );
    expect(keyed).toContain(
      '#EXT-X-KEY:METHOD=AES-128,URI="[https://o.test/a/keys/key-1.bin]",IV=0x00000000000000000000000000000A7B',
    );
  });

  it('keeps CRLF endings, comments, blank lines and non-HTTP URIs as written', () => {
    const text =
      '#EXTM3U\r\n# a comment with URI="x"\r\n\r\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-id",KEYFORMAT="com.apple.streamingkeydelivery"\r\n#EXT-X-CONTENT-STEERING:SERVER-URI="/steer"\r\n#EXTINF:2,\r\nseg.ts\r\n';
    const out = rewritePlaylistUris(text, 'http://o.test/p.m3u8', () => 'NEW');
    expect(out).toBe(text.replace('\r\nseg.ts\r\n', '\r\nNEW\r\n'));
  });
});
