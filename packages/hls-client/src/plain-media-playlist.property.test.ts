import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePlaylistText } from './m3u8-text.js';
import { parseMediaPlaylist, parseMediaPlaylistByM3u8Parser } from './media-playlist.js';
import { readPlainPlaylist } from './plain-media-playlist.js';

/**
 * The plain shape of a live playlist is read without m3u8-parser: over such playlists, and over
 * near misses of them, parseMediaPlaylist gives what it gives with m3u8-parser reading every line,
 * the same details or the same error.
 */

const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 400);
const URL_OF = 'http://origin.test/app/stream/chunklist_0_video_llhls.m3u8?token=x';
/** The same playlist after a redirect: its names resolve elsewhere. */
const MOVED_URL = 'http://edge.test/live/stream/chunklist_0_video_llhls.m3u8';

const name = fc.oneof(
  fc.stringMatching(/^[a-z0-9_]{1,16}\.m4s$/),
  fc.constantFrom(
    'seg.ts',
    'a/b.m4s',
    '../x.ts',
    'http://other.test/s.ts',
    'x?y=1',
    'a b',
    'ü.m4s',
  ),
);
const number = fc.oneof(
  fc.double({ min: 0, max: 20, noNaN: true }).map((d) => d.toFixed(6)),
  fc.integer({ min: 0, max: 12 }).map(String),
  fc.constantFrom('0', '0.000', '4.', '.5', '1e3', '-1', ''),
);

interface Values {
  name: fc.Arbitrary<string>;
  number: fc.Arbitrary<string>;
  title: fc.Arbitrary<string>;
}

const anyValues: Values = { name, number, title: fc.constantFrom('', 'live', 'a,b', ' x') };
/** What the plain shape takes: names without quotes, commas, `=` or blanks; durations above 0. */
const plainValues: Values = {
  name: fc.stringMatching(/^[a-z0-9_]{1,16}\.m4s$/),
  number: fc.double({ min: 0.001, max: 20, noNaN: true }).map((d) => d.toFixed(6)),
  title: fc.constantFrom('', 'live', 'a,b'),
};

const segmentRecord = ({ name, number, title }: Values) =>
  fc.record({
    duration: number,
    title,
    uri: name,
    pdt: fc.option(
      fc.date({ min: new Date(2000, 0), max: new Date(2100, 0), noInvalidDate: true }),
    ),
    parts: fc.array(fc.record({ duration: number, uri: name, independent: fc.boolean() }), {
      maxLength: 4,
    }),
  });

const liveRecord = ({ name, number, title }: Values) =>
  fc.record({
    version: fc.integer({ min: 3, max: 10 }),
    target: fc.integer({ min: 1, max: 12 }),
    sequence: fc.nat({ max: 1_000_000 }),
    independent: fc.boolean(),
    serverControl: fc.constantFrom(
      '',
      'CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.008001',
      'CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.1,HOLD-BACK=2',
      'CAN-SKIP-UNTIL=24',
    ),
    partTarget: fc.option(number),
    map: fc.option(name),
    segments: fc.array(segmentRecord({ name, number, title }), { maxLength: 12 }),
    trailingParts: fc.array(fc.record({ duration: number, uri: name, independent: fc.boolean() }), {
      maxLength: 3,
    }),
    hint: fc.option(fc.tuple(fc.constantFrom('PART', 'MAP'), name)),
    reports: fc.array(fc.tuple(name, fc.nat({ max: 999 }), fc.option(fc.nat({ max: 9 }))), {
      maxLength: 2,
    }),
    endList: fc.boolean(),
  });

type LiveRecord = ReturnType<typeof liveRecord> extends fc.Arbitrary<infer R> ? R : never;

function playlistLines(p: LiveRecord): string[] {
  const part = (q: { duration: string; uri: string; independent: boolean }) =>
    `#EXT-X-PART:DURATION=${q.duration},URI="${q.uri}"${q.independent ? ',INDEPENDENT=YES' : ''}`;
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${p.version}`,
    `#EXT-X-TARGETDURATION:${p.target}`,
    ...(p.independent ? ['#EXT-X-INDEPENDENT-SEGMENTS'] : []),
    ...(p.serverControl ? [`#EXT-X-SERVER-CONTROL:${p.serverControl}`] : []),
    ...(p.partTarget !== null ? [`#EXT-X-PART-INF:PART-TARGET=${p.partTarget}`] : []),
    `#EXT-X-MEDIA-SEQUENCE:${p.sequence}`,
    ...(p.map !== null ? [`#EXT-X-MAP:URI="${p.map}"`] : []),
    ...p.segments.flatMap((s) => [
      ...(s.pdt ? [`#EXT-X-PROGRAM-DATE-TIME:${s.pdt.toISOString()}`] : []),
      ...s.parts.map(part),
      `#EXTINF:${s.duration},${s.title}`,
      s.uri,
    ]),
    ...p.trailingParts.map(part),
    ...(p.hint ? [`#EXT-X-PRELOAD-HINT:TYPE=${p.hint[0]},URI="${p.hint[1]}"`] : []),
    ...p.reports.map(
      ([uri, msn, last]) =>
        `#EXT-X-RENDITION-REPORT:URI="${uri}",LAST-MSN=${msn}${last === null ? '' : `,LAST-PART=${last}`}`,
    ),
    ...(p.endList ? ['#EXT-X-ENDLIST'] : []),
  ];
}

const livePlaylist = (values: Values) => liveRecord(values).map(playlistLines);

const TAGS = [
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-GAP',
  '#EXT-X-KEY:METHOD=AES-128,URI="k"',
  '#EXT-X-BYTERANGE:100@0',
  '#EXT-X-DATERANGE:ID="a",START-DATE="2024-01-01T00:00:00Z"',
  '#EXT-X-DEFINE:NAME="a",VALUE="b"',
  '#EXT-X-DISCONTINUITY-SEQUENCE:3',
  '#EXT-X-TARGETDURATION:6',
  '#EXT-X-MAP:URI="other.mp4"',
  '#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z',
  '#EXTINF:2,',
  '#EXT-X-ENDLIST',
  '#EXT-X-PART:URI="p.m4s",DURATION=1',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="h.m4s"',
  '# a comment',
  '',
  ' ',
];
const nearMiss = fc.oneof(
  // A line dropped, doubled, or another tag put in.
  fc.nat().map((i) => (lines: string[]) => lines.filter((_, n) => n !== i % lines.length)),
  fc.nat().map((i) => (lines: string[]) => {
    const n = i % lines.length;
    return [...lines.slice(0, n + 1), ...lines.slice(n)];
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...TAGS)).map(([i, tag]) => (lines: string[]) => {
    const n = i % (lines.length + 1);
    return [...lines.slice(0, n), tag, ...lines.slice(n)];
  }),
  // A character changed, put in or taken out.
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom('', ' ', '\t', '"', ',', '=', '#', '.', '\u2028', '\u00a0', 'x', '0'),
    )
    .map(([i, at, text]) => (lines: string[]) => {
      const n = i % lines.length;
      const line = lines[n]!;
      const cut = at % (line.length + 1);
      const changed = line.slice(0, cut) + text + line.slice(cut + (at % 2));
      return lines.map((l, k) => (k === n ? changed : l));
    }),
);

function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    return { threw: (error as Error).name, message: (error as Error).message };
  }
}

function expectSameAsM3u8Parser(text: string): void {
  expect(outcome(() => parseMediaPlaylist(text, URL_OF))).toEqual(
    outcome(() => parseMediaPlaylistByM3u8Parser(text, URL_OF)),
  );
}

describe('a live playlist of the plain shape', () => {
  it('is read without m3u8-parser when written exactly so', () => {
    fc.assert(
      fc.property(livePlaylist(plainValues), (lines) => {
        const text = lines.join('\n');
        expect(readPlainPlaylist(normalizePlaylistText(text, URL_OF), URL_OF)).toBeDefined();
        expectSameAsM3u8Parser(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('gives the details m3u8-parser gives, or its error, for it and its near misses', () => {
    fc.assert(
      fc.property(
        fc.oneof(livePlaylist(plainValues), livePlaylist(anyValues)),
        fc.array(nearMiss, { maxLength: 3 }),
        fc.constantFrom('\n', '\r\n'),
        (lines, misses, eol) => {
          expectSameAsM3u8Parser(misses.reduce((acc, miss) => miss(acc), lines).join(eol));
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });
});

/**
 * The reload after `p`: the window moved by `shift` segments and `added` after its last one, the
 * parts of all but the last `partsKept` complete segments dropped (as an LL-HLS origin drops
 * them once they age).
 */
function reloadOf(
  p: LiveRecord,
  shift: number,
  added: LiveRecord['segments'],
  partsKept: number,
): LiveRecord {
  const segments = [...p.segments.slice(shift), ...added];
  return {
    ...p,
    sequence: p.sequence + shift,
    segments: segments.map((s, i) => (i < segments.length - partsKept ? { ...s, parts: [] } : s)),
  };
}

const reload = fc.record({
  first: liveRecord(plainValues),
  shift: fc.nat({ max: 4 }),
  added: fc.array(segmentRecord(plainValues), { maxLength: 3 }),
  partsKept: fc.nat({ max: 3 }),
});

describe('a reload parsed after the last load', () => {
  it('takes each segment whose lines it repeats from the last load, and no other', () => {
    fc.assert(
      fc.property(reload, ({ first, shift, added, partsKept }) => {
        const previous = parseMediaPlaylist(playlistLines(first).join('\n'), URL_OF);
        const next = reloadOf(first, shift, added, partsKept);
        const details = parseMediaPlaylist(playlistLines(next).join('\n'), URL_OF, previous);
        next.segments.forEach((segment, i) => {
          const before = first.segments[i + shift];
          // The first segment's block starts with the EXT-X-MAP line, which moved to it.
          const sameLines =
            before !== undefined &&
            JSON.stringify(before.parts) === JSON.stringify(segment.parts) &&
            !(i === 0 && shift > 0 && first.map !== null);
          const taken = details.segments[i] === previous.segments[i + shift];
          expect(taken).toBe(sameLines);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('gives what it gives parsed alone, or its error, for it and its near misses', () => {
    fc.assert(
      fc.property(
        reload,
        fc.array(nearMiss, { maxLength: 2 }),
        fc.constantFrom(URL_OF, MOVED_URL),
        ({ first, shift, added, partsKept }, misses, url) => {
          const previous = parseMediaPlaylist(playlistLines(first).join('\n'), URL_OF);
          const lines = playlistLines(reloadOf(first, shift, added, partsKept));
          const text = misses.reduce((acc, miss) => miss(acc), lines).join('\n');
          const alone = outcome(() => parseMediaPlaylist(text, url));
          expect(outcome(() => parseMediaPlaylist(text, url, previous))).toEqual(alone);
          expect(alone).toEqual(outcome(() => parseMediaPlaylistByM3u8Parser(text, url)));
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('a reload whose segments are repeated around a line of no segment', () => {
  it('reads that line again: ENDLIST between them still ends the playlist', () => {
    const segment = (msn: number) => [`#EXTINF:4.000000,`, `seg_${msn}.m4s`];
    const text = (first: number) =>
      [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:4',
        `#EXT-X-MEDIA-SEQUENCE:${first}`,
        ...segment(first),
        ...segment(first + 1),
        '#EXT-X-ENDLIST',
        ...segment(first + 2),
      ].join('\n');
    const previous = parseMediaPlaylist(text(10), URL_OF);
    const details = parseMediaPlaylist(text(10), URL_OF, previous);
    expect(details.endList).toBe(true);
    expect(details).toEqual(parseMediaPlaylistByM3u8Parser(text(10), URL_OF));
    // The segments before it are still the last load's; the one whose lines hold it is read again.
    expect(details.segments).toHaveLength(3);
    expect(details.segments[0]).toBe(previous.segments[0]);
    expect(details.segments[1]).toBe(previous.segments[1]);
    expect(details.segments[2]).not.toBe(previous.segments[2]);
  });
});
