import type { Manifest, Segment } from 'm3u8-parser';
import { detached } from './detached.js';
import { runM3u8Parser } from './m3u8-text.js';
import { MediaSegment, type RenditionDetails } from './rendition-details.js';

/*
 * A live LL-HLS media playlist as OvenMediaEngine writes it, reloaded once a segment per
 * rendition, is mostly the same few line shapes: program date, EXTINF, parts, the segment's
 * name. m3u8-parser reads every line through a cascade of regular expressions and attribute
 * lists, most of a reload's cost. This reads those shapes, written exactly so, into what
 * m3u8-parser gives for them; the playlist-wide tags before the first segment still go through
 * m3u8-parser (their defaults and clamps are its own), once for each text of them (readHeader).
 * Anything else — another tag, another attribute order, a quote or comma or `=` in a name, stray
 * blanks — returns undefined and the whole playlist goes through m3u8-parser as before. A
 * differential property test holds the two equal.
 *
 * A reload repeats most of the last one's segments line for line (a window of ten segments moves
 * by one; an EVENT playlist only grows): those segments are the last load's, found by comparing
 * their lines, a run of them at once, so a reload's cost is mostly its new segments', not its
 * window's.
 */

/** Tags m3u8-parser reads into playlist-wide fields only: what may stand before the segments. */
const HEADER_TAG =
  /^#(?:EXTM3U$|EXT-X-VERSION:|EXT-X-TARGETDURATION:|EXT-X-MEDIA-SEQUENCE:|EXT-X-INDEPENDENT-SEGMENTS$|EXT-X-SERVER-CONTROL:|EXT-X-PART-INF:|EXT-X-PLAYLIST-TYPE:)/;
const NAME = '[^"\\s,=#]+';
const NUMBER = '\\d+(?:\\.\\d+)?';
const MAP = new RegExp(`^#EXT-X-MAP:URI="(${NAME})"$`);
const EXTINF = new RegExp(`^#EXTINF:(${NUMBER}),(.*)$`);
const PART = new RegExp(`^#EXT-X-PART:DURATION=(${NUMBER}),URI="(${NAME})"(,INDEPENDENT=YES)?$`);
const PRELOAD_HINT = new RegExp(`^#EXT-X-PRELOAD-HINT:TYPE=(PART|MAP),URI="(${NAME})"$`);
const RENDITION_REPORT = new RegExp(
  `^#EXT-X-RENDITION-REPORT:URI="${NAME}",LAST-MSN=\\d+(?:,LAST-PART=\\d+)?$`,
);
const MEDIA_SEQUENCE = /^#EXT-X-MEDIA-SEQUENCE:(\d{1,15})$/;
const PROGRAM_DATE_TIME = /^#EXT-X-PROGRAM-DATE-TIME:(.+)$/;
const ENDLIST = '#EXT-X-ENDLIST';

interface PlainPart {
  duration: number;
  uri: string;
  independent?: true;
}

interface PendingSegment {
  duration?: number;
  title?: string;
  dateTimeString?: string;
  parts?: PlainPart[];
  preloadHints?: { type: string; uri: string }[];
}

export interface PlainPlaylist {
  /** What m3u8-parser would give for the playlist, but its `segments`: see segments(). */
  manifest: Manifest;
  /**
   * The complete segments, in order: a segment of `previous` whose lines this text repeats as
   * they were is that segment, the others are made by `make` from what m3u8-parser would give
   * for them (msn counted from the media sequence).
   */
  segments(make: (segment: Segment, msn: number) => MediaSegment): MediaSegment[];
}

/** Where the segments of a list this reader made were read from. */
interface SegmentSources {
  /** The text they were last found in. */
  text: string;
  /**
   * Per segment, where its lines start in `text` (from the line after the segment before it) and
   * end (its URI line, without the newline); start -1 when they hold a line not its own.
   */
  starts: number[];
  ends: number[];
  /** Per segment, the last of the segments whose lines follow its own, one after the other. */
  runEnds: number[];
}

/**
 * To know the segments again in the next reload (a WeakMap: the list goes with its details). A
 * segment may be taken again for as long as it stays in the window: the strings it holds are
 * detached from the text it was read from, which only its own load keeps.
 */
const sourcesOf = new WeakMap<MediaSegment[], SegmentSources>();

/**
 * The playlist m3u8-parser would give for `normalized` (the fields a media playlist's reader
 * uses), or undefined when the playlist is not of the plain shape. `previous` is the last load of
 * the same URL, whose segments are taken again when their lines are repeated verbatim: in the
 * plain shape a segment depends on its own lines and the EXT-X-MAP in effect, nothing else.
 */
export function readPlainPlaylist(
  normalized: string,
  url: string,
  previous?: RenditionDetails,
): PlainPlaylist | undefined {
  const length = normalized.length;
  let pos = 0;
  let headerText = '';
  let mediaSequence: number | undefined;
  while (pos < length) {
    const end = lineEnd(normalized, pos);
    const line = normalized.slice(pos, end);
    if (line !== '' && !HEADER_TAG.test(line)) break;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      const match = MEDIA_SEQUENCE.exec(line);
      if (!match || mediaSequence !== undefined) return undefined;
      mediaSequence = Number.parseInt(match[1]!, 10);
    } else {
      headerText += line + '\n';
    }
    pos = end + 1;
  }
  const firstMsn = mediaSequence ?? 0;
  const earlier = previous?.url === url ? previous : undefined;
  const earlierSources = earlier && sourcesOf.get(earlier.segments);
  /** Per segment: the one taken from `previous`, or what m3u8-parser would give. */
  const entries: (MediaSegment | Segment)[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let map: { uri: string } | undefined;
  let pending: PendingSegment = {};
  let endList = false;
  let blockStart = pos;
  let ownLines = true;
  while (pos < length) {
    if (pos === blockStart && earlier !== undefined && earlierSources !== undefined) {
      const from = firstMsn + entries.length - earlier.mediaSequence;
      const to = repeatedRun(normalized, pos, earlier.segments, earlierSources, from, map);
      if (to >= from) {
        const shift = pos - earlierSources.starts[from]!;
        for (let i = from; i <= to; i++) {
          entries.push(earlier.segments[i]!);
          starts.push(earlierSources.starts[i]! + shift);
          ends.push(earlierSources.ends[i]! + shift);
        }
        const keptMap = earlier.segments[to]!.map?.relativeUri;
        if (keptMap !== undefined && keptMap !== map?.uri) map = { uri: keptMap };
        pos = blockStart = ends[ends.length - 1]! + 1;
        continue;
      }
    }
    const start = pos;
    const end = lineEnd(normalized, start);
    const line = normalized.slice(start, end);
    const next = end + 1;
    pos = next;
    if (line === '') {
      if (start === blockStart) blockStart = next;
      else ownLines = false;
      continue;
    }
    // m3u8-parser trims each line: a name or title it would cut is not of the plain shape.
    if (line.trim() !== line) return undefined;
    if (line.charCodeAt(0) !== 0x23 /* # */) {
      if (pending.duration === undefined || pending.preloadHints) return undefined;
      const segment = { ...pending, uri: detached(line), timeline: 0 } as Segment;
      if (map) segment.map = map as Segment['map'];
      entries.push(segment);
      starts.push(ownLines ? blockStart : -1);
      ends.push(end);
      pending = {};
      blockStart = next;
      ownLines = true;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const match = PROGRAM_DATE_TIME.exec(line);
      if (!match || pending.dateTimeString !== undefined) return undefined;
      pending.dateTimeString = detached(match[1]!);
    } else if (line.startsWith('#EXTINF:')) {
      const match = EXTINF.exec(line);
      const duration = match ? Number.parseFloat(match[1]!) : 0;
      if (!match || !(duration > 0) || pending.duration !== undefined || pending.preloadHints)
        return undefined;
      pending.duration = duration;
      if (match[2]) pending.title = detached(match[2]);
    } else if (line.startsWith('#EXT-X-PART:')) {
      const match = PART.exec(line);
      if (!match || pending.preloadHints) return undefined;
      const part: PlainPart = { duration: Number.parseFloat(match[1]!), uri: detached(match[2]!) };
      if (match[3]) part.independent = true;
      (pending.parts ??= []).push(part);
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const match = PRELOAD_HINT.exec(line);
      if (!match) return undefined;
      (pending.preloadHints ??= []).push({ type: match[1]!, uri: match[2]! });
    } else if (line.startsWith('#EXT-X-MAP:')) {
      const match = MAP.exec(line);
      if (!match || hasAny(pending)) return undefined;
      map = { uri: detached(match[1]!) };
    } else if (RENDITION_REPORT.test(line)) {
      // Read by m3u8-parser into renditionReports, which a media playlist's reader leaves alone.
      ownLines = false;
    } else if (line === ENDLIST) {
      endList = true;
      ownLines = false;
    } else {
      return undefined;
    }
  }
  const manifest = readHeader(headerText, mediaSequence, url);
  if (endList) manifest.endList = true;
  if (pending.parts || pending.preloadHints) {
    const preload = { ...pending, timeline: 0 } as Segment;
    if (map) preload.map = map as Segment['map'];
    manifest.preloadSegment = preload;
  }
  return {
    manifest,
    segments: (make) => {
      const segments = entries.map((entry, i) =>
        entry instanceof MediaSegment ? entry : make(entry, firstMsn + i),
      );
      sourcesOf.set(segments, { text: normalized, starts, ends, runEnds: runEndsOf(starts, ends) });
      return segments;
    },
  };
}

/**
 * The last index of the longest run of `previous` from `from` on whose lines `text` repeats at
 * `at`, one segment after the other, with the same EXT-X-MAP in effect before the first (its own
 * first line, or `map`); from - 1 when not even the first one's. Runs are compared whole (one
 * string comparison for many segments), their length found by doubling then halving.
 */
function repeatedRun(
  text: string,
  at: number,
  previous: MediaSegment[],
  sources: SegmentSources,
  from: number,
  map: { uri: string } | undefined,
): number {
  const first = previous[from];
  const start = sources.starts[from];
  if (first === undefined || start === undefined || start < 0) return from - 1;
  if (!sources.text.startsWith('#EXT-X-MAP:', start) && first.map?.relativeUri !== map?.uri)
    return from - 1;
  const repeated = (to: number): boolean => {
    const end = at + sources.ends[to]! - start;
    return (
      (end === text.length || text.charCodeAt(end) === 0x0a) &&
      text.slice(at, end) === sources.text.slice(start, sources.ends[to])
    );
  };
  if (!repeated(from)) return from - 1;
  const last = sources.runEnds[from]!;
  let good = from;
  let bad = last + 1;
  for (let step = 1; good < last; step *= 2) {
    const probe = Math.min(good + step, last);
    if (!repeated(probe)) {
      bad = probe;
      break;
    }
    good = probe;
  }
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1;
    if (repeated(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/** Per segment, the last index of the run of own lines that follow one another from it. */
function runEndsOf(starts: number[], ends: number[]): number[] {
  const runEnds = new Array<number>(starts.length);
  for (let i = starts.length - 1; i >= 0; i--) {
    const joined = i + 1 < starts.length && starts[i + 1] === ends[i]! + 1;
    runEnds[i] = joined ? runEnds[i + 1]! : i;
  }
  return runEnds;
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end === -1 ? text.length : end;
}

/**
 * What m3u8-parser reads from the playlist-wide tags, by their text less the media sequence (the
 * one line that changes from reload to reload): the renditions of a stream, and of an origin,
 * mostly share one.
 */
const headers = new Map<string, Manifest>();
const HEADERS_KEPT = 64;

/** The manifest of the playlist-wide lines (`text`, less the media sequence), a new object each time. */
function readHeader(text: string, mediaSequence: number | undefined, url: string): Manifest {
  let header = headers.get(text);
  if (header === undefined) {
    header = runM3u8Parser(text, url);
    if (headers.size >= HEADERS_KEPT) headers.clear();
    headers.set(text, header);
  }
  const manifest: Manifest = { ...header, segments: [] };
  if (header.serverControl) manifest.serverControl = { ...header.serverControl };
  if (mediaSequence !== undefined) manifest.mediaSequence = mediaSequence;
  return manifest;
}

function hasAny(pending: PendingSegment): boolean {
  return Object.keys(pending).length > 0;
}
