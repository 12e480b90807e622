import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMasterPlaylist, parseMasterPlaylist, rewritePlaylistUris } from './master-playlist.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { PlaylistParseError } from './playlist-parse-error.js';

/**
 * The parsers read what any origin sends. Over random text and over valid playlists mutated at
 * random, they either return a playlist whose numbers make sense or throw PlaylistParseError:
 * never another exception, never a hang, within a bounded time per input.
 */

const BASE = 'http://origin.test/app/stream/chunklist.m3u8';
/** Far above what a few-KB playlist takes, far below a hang. */
const MAX_MS_PER_INPUT = 1_000;
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 400);

const uri = fc.oneof(
  fc.constantFrom('seg.ts', 'a/b.m4s', '../x.ts', 'http://other.test/s.ts', 'seg.ts?t=1#f'),
  fc.string({ maxLength: 40 }),
  fc.webUrl(),
);
const number = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom('', 'abc', '1e400', '-0', '0x10', '4.000'),
);
const attributes = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'URI',
        'BYTERANGE',
        'METHOD',
        'IV',
        'BANDWIDTH',
        'RESOLUTION',
        'TYPE',
        'GROUP-ID',
        'NAME',
        'AUDIO',
        'DURATION',
        'INDEPENDENT',
        'CAN-BLOCK-RELOAD',
        'PART-HOLD-BACK',
      ),
      fc.oneof(
        number,
        uri.map((u) => `"${u}"`),
        fc.constantFrom('YES', 'NO', 'AES-128', 'AUDIO', '1280x720', '"a"'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(','));

const TAGS = [
  '#EXT-X-VERSION',
  '#EXT-X-TARGETDURATION',
  '#EXT-X-MEDIA-SEQUENCE',
  '#EXT-X-DISCONTINUITY-SEQUENCE',
  '#EXTINF',
  '#EXT-X-BYTERANGE',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-KEY',
  '#EXT-X-MAP',
  '#EXT-X-PROGRAM-DATE-TIME',
  '#EXT-X-GAP',
  '#EXT-X-ENDLIST',
  '#EXT-X-PLAYLIST-TYPE',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-PART',
  '#EXT-X-PART-INF',
  '#EXT-X-SERVER-CONTROL',
  '#EXT-X-PRELOAD-HINT',
  '#EXT-X-RENDITION-REPORT',
  '#EXT-X-SKIP',
  '#EXT-X-DATERANGE',
  '#EXT-X-STREAM-INF',
  '#EXT-X-MEDIA',
  '#EXT-X-I-FRAME-STREAM-INF',
  '#EXT-X-SESSION-DATA',
  '#EXT-X-CUE-OUT',
  '#EXT-X-CUE-IN',
];
const tagLine = fc
  .tuple(fc.constantFrom(...TAGS), fc.oneof(number, attributes, fc.string({ maxLength: 30 })))
  .map(([tag, value]) => `${tag}:${value}`);

const mediaPlaylist = fc
  .record({
    target: fc.integer({ min: 1, max: 12 }),
    sequence: fc.nat({ max: 1_000_000 }),
    segments: fc.array(
      fc.record({
        duration: fc.double({ min: 0.1, max: 12, noNaN: true }),
        uri,
        discontinuity: fc.boolean(),
        pdt: fc.option(
          fc.date({ min: new Date(2000, 0), max: new Date(2100, 0), noInvalidDate: true }),
        ),
        parts: fc.nat({ max: 4 }),
      }),
      { maxLength: 12 },
    ),
    lowLatency: fc.boolean(),
    endList: fc.boolean(),
  })
  .map((p) => [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${p.target}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.sequence}`,
    ...(p.lowLatency
      ? [
          '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3',
          '#EXT-X-PART-INF:PART-TARGET=1',
        ]
      : []),
    '#EXT-X-MAP:URI="init.mp4"',
    ...p.segments.flatMap((s, i) => [
      ...(s.discontinuity ? ['#EXT-X-DISCONTINUITY'] : []),
      ...(s.pdt ? [`#EXT-X-PROGRAM-DATE-TIME:${s.pdt.toISOString()}`] : []),
      ...Array.from(
        { length: p.lowLatency ? s.parts : 0 },
        (_, n) => `#EXT-X-PART:DURATION=1,URI="p${i}.${n}.m4s"`,
      ),
      `#EXTINF:${s.duration.toFixed(3)},`,
      s.uri,
    ]),
    ...(p.lowLatency ? ['#EXT-X-PRELOAD-HINT:TYPE=PART,URI="next.m4s"'] : []),
    ...(p.endList ? ['#EXT-X-ENDLIST'] : []),
  ]);

const masterPlaylist = fc
  .array(fc.record({ bandwidth: fc.nat(), uri, audio: fc.boolean() }), {
    minLength: 1,
    maxLength: 5,
  })
  .map((variants) => [
    '#EXTM3U',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="audio.m3u8"',
    ...variants.flatMap((v) => [
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth}${v.audio ? ',AUDIO="a"' : ''}`,
      v.uri,
    ]),
  ]);

type Mutation = (lines: string[]) => string[];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .nat()
    .map((i) => (lines: string[]) => lines.filter((_, n) => n !== i % Math.max(1, lines.length))),
  fc.nat().map((i) => (lines: string[]) => {
    const n = i % Math.max(1, lines.length);
    return [...lines.slice(0, n + 1), ...lines.slice(n)];
  }),
  fc.tuple(fc.nat(), tagLine).map(([i, line]) => (lines: string[]) => {
    const n = i % (lines.length + 1);
    return [...lines.slice(0, n), line, ...lines.slice(n)];
  }),
  fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 })).map(
    ([i, at, text]) =>
      (lines: string[]) =>
        lines.map((line, n) =>
          n === i % Math.max(1, lines.length)
            ? line.slice(0, at % (line.length + 1)) +
              text +
              line.slice((at % (line.length + 1)) + 1)
            : line,
        ),
  ),
  fc.nat().map((i) => (lines: string[]) => lines.slice(0, i % (lines.length + 1))),
);

function mutated(base: fc.Arbitrary<string[]>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(mutation, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'))
    .map(([lines, mutations, eol]) => mutations.reduce((acc, m) => m(acc), lines).join(eol));
}

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }).map((s) => `#EXTM3U\n${s}`),
  fc.array(tagLine, { maxLength: 30 }).map((lines) => ['#EXTM3U', ...lines].join('\n')),
);

/** Runs `parse`; passes when it returns or throws PlaylistParseError, and within the time bound. */
function onlyTypedErrors<T>(parse: () => T, check: (value: T) => void): void {
  const started = performance.now();
  let value: T;
  try {
    value = parse();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(PlaylistParseError);
    return;
  } finally {
    expect(performance.now() - started).toBeLessThan(MAX_MS_PER_INPUT);
  }
  check(value);
}

function checkMedia(text: string): void {
  onlyTypedErrors(
    () => parseMediaPlaylist(text, BASE),
    (details) => {
      expect(details.targetDuration).toBeGreaterThan(0);
      expect(Number.isFinite(details.targetDuration)).toBe(true);
      expect(Number.isSafeInteger(details.mediaSequence)).toBe(true);
      expect(details.mediaSequence).toBeGreaterThanOrEqual(0);
      for (const [i, segment] of details.segments.entries()) {
        expect(segment.msn).toBe(details.mediaSequence + i);
        expect(new URL(segment.uri).href).toBe(segment.uri);
      }
      expect(details.reloaded(details).advanced).toBe(false);
    },
  );
}

function checkMaster(text: string): void {
  isMasterPlaylist(text);
  onlyTypedErrors(
    () => parseMasterPlaylist(text, BASE),
    (master) => {
      expect(master.variants.length).toBeGreaterThan(0);
      for (const variant of master.variants) expect(new URL(variant.uri).href).toBe(variant.uri);
      const rewritten = rewritePlaylistUris(text, BASE, () => 'local.m3u8');
      expect(typeof rewritten).toBe('string');
    },
  );
}

describe('the media playlist parser, over hostile text', () => {
  it('valid playlists parse', () => {
    fc.assert(
      fc.property(mediaPlaylist, (lines) => checkMedia(lines.join('\n'))),
      { numRuns: RUNS },
    );
  });
  it('mutated playlists: a playlist or PlaylistParseError', () => {
    fc.assert(fc.property(mutated(mediaPlaylist), checkMedia), { numRuns: RUNS });
  });
  it('random text: a playlist or PlaylistParseError', () => {
    fc.assert(fc.property(anyText, checkMedia), { numRuns: RUNS });
  });
});

describe('the master playlist parser, over hostile text', () => {
  it('mutated masters: a master or PlaylistParseError', () => {
    fc.assert(fc.property(mutated(masterPlaylist), checkMaster), { numRuns: RUNS });
  });
  it('mutated media playlists and random text: PlaylistParseError, never another exception', () => {
    fc.assert(fc.property(fc.oneof(mutated(mediaPlaylist), anyText), checkMaster), {
      numRuns: RUNS,
    });
  });
});
