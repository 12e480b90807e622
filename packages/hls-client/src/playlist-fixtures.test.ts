import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMasterPlaylist, parseMasterPlaylist } from './master-playlist.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { PlaylistParseError } from './playlist-parse-error.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
/** Every fixture is parsed as if fetched from here, so the expected absolute URIs are stable. */
const FIXTURE_BASE_URL = 'https://origin.example.com/app/stream/playlist.m3u8?token=abc';

/** What a fixture's `.expected.json` holds: the parse result, plus the derived values for media playlists. */
function describeParse(text: string): unknown {
  if (isMasterPlaylist(text))
    return JSON.parse(JSON.stringify(parseMasterPlaylist(text, FIXTURE_BASE_URL)));
  const details = parseMediaPlaylist(text, FIXTURE_BASE_URL);
  return JSON.parse(
    JSON.stringify({
      ...details,
      startSn: details.startSn,
      endSn: details.endSn,
      lowLatency: details.lowLatency,
      nextBlockingTarget: details.nextBlockingTarget(),
    }),
  );
}

const files = readdirSync(FIXTURES);
const names = new Set(files.map((f) => f.replace(/\.expected\.json$|\.m3u8$/, '')));

describe('playlist fixtures', () => {
  it('come in complete pairs', () => {
    const missing: string[] = [];
    for (const name of names) {
      if (!files.includes(`${name}.m3u8`)) missing.push(`${name}.m3u8`);
      if (!files.includes(`${name}.expected.json`)) missing.push(`${name}.expected.json`);
    }
    expect(missing).toEqual([]);
    expect(names.size).toBeGreaterThanOrEqual(4);
  });

  for (const name of [...names].sort()) {
    it(`parses ${name}`, () => {
      const text = readFileSync(join(FIXTURES, `${name}.m3u8`), 'utf8');
      const expected: unknown = JSON.parse(
        readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8'),
      );
      expect(describeParse(text)).toEqual(expected);
    });
  }
});

describe('invalid playlists', () => {
  const url = 'http://origin.test/live/chunklist.m3u8';
  const cases: [string, string][] = [
    ['empty text', ''],
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>'],
    ['no #EXTM3U', '#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n'],
    ['no TARGETDURATION', '#EXTM3U\n#EXTINF:2,\nseg1.ts\n'],
    ['a master playlist', readFileSync(join(FIXTURES, 'master-two-variants-audio.m3u8'), 'utf8')],
    [
      'a delta update',
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2,\nseg.ts\n',
    ],
    [
      'a key IV too short to be one',
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI="k",IV=0x0a\n#EXTINF:2,\nseg.ts\n',
    ],
  ];
  for (const [label, text] of cases) {
    it(`parseMediaPlaylist rejects ${label}`, () => {
      let caught: unknown;
      try {
        parseMediaPlaylist(text, url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PlaylistParseError);
      expect(caught).toMatchObject({ code: 'PLAYLIST_INVALID', url });
    });
  }

  it('parseMasterPlaylist rejects a media playlist and garbage', () => {
    const media = readFileSync(join(FIXTURES, 'hls-ts-discontinuity.m3u8'), 'utf8');
    expect(() => parseMasterPlaylist(media, url)).toThrow(PlaylistParseError);
    expect(() => parseMasterPlaylist('nope', url)).toThrow(PlaylistParseError);
    expect(isMasterPlaylist(media)).toBe(false);
    expect(isMasterPlaylist('garbage')).toBe(false);
  });

  it('accepts CRLF line endings and a BOM', () => {
    const text = '\uFEFF#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXTINF:2,\r\nseg1.ts\r\n';
    const details = parseMediaPlaylist(text, url);
    expect(details.segments.map((s) => s.uri)).toEqual(['http://origin.test/live/seg1.ts']);
  });
});
