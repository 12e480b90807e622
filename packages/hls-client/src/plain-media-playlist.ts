import type { Manifest, Segment } from 'm3u8-parser';
import { runM3u8Parser } from './m3u8-text.js';

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
 */

/** Tags m3u8-parser reads into playlist-wide fields only: what may stand before the segments. */
const HEADER_TAG =
  /^#(?:EXTM3U|EXT-X-VERSION:|EXT-X-TARGETDURATION:|EXT-X-MEDIA-SEQUENCE:|EXT-X-INDEPENDENT-SEGMENTS$|EXT-X-SERVER-CONTROL:|EXT-X-PART-INF:|EXT-X-PLAYLIST-TYPE:)/;
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

/**
 * The manifest m3u8-parser would give for `normalized` (the fields a media playlist's reader
 * uses), or undefined when the playlist is not of the plain shape.
 */
export function readPlainManifest(normalized: string, url: string): Manifest | undefined {
  const lines = normalized.split('\n');
  let at = 0;
  while (at < lines.length && (lines[at] === '' || HEADER_TAG.test(lines[at]!))) at++;
  const segments: Segment[] = [];
  let map: { uri: string } | undefined;
  let pending: PendingSegment = {};
  let endList = false;
  for (let i = at; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    // m3u8-parser trims each line: a name or title it would cut is not of the plain shape.
    if (line.trim() !== line) return undefined;
    if (line.charCodeAt(0) !== 0x23 /* # */) {
      if (pending.duration === undefined || pending.preloadHints) return undefined;
      const segment = { ...pending, uri: line, timeline: 0 } as Segment;
      if (map) segment.map = map as Segment['map'];
      segments.push(segment);
      pending = {};
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const match = PROGRAM_DATE_TIME.exec(line);
      if (!match || pending.dateTimeString !== undefined) return undefined;
      pending.dateTimeString = match[1]!;
    } else if (line.startsWith('#EXTINF:')) {
      const match = EXTINF.exec(line);
      const duration = match ? Number.parseFloat(match[1]!) : 0;
      if (!match || !(duration > 0) || pending.duration !== undefined || pending.preloadHints)
        return undefined;
      pending.duration = duration;
      if (match[2]) pending.title = match[2];
    } else if (line.startsWith('#EXT-X-PART:')) {
      const match = PART.exec(line);
      if (!match || pending.preloadHints) return undefined;
      const part: PlainPart = { duration: Number.parseFloat(match[1]!), uri: match[2]! };
      if (match[3]) part.independent = true;
      (pending.parts ??= []).push(part);
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const match = PRELOAD_HINT.exec(line);
      if (!match) return undefined;
      (pending.preloadHints ??= []).push({ type: match[1]!, uri: match[2]! });
    } else if (line.startsWith('#EXT-X-MAP:')) {
      const match = MAP.exec(line);
      if (!match || hasAny(pending)) return undefined;
      map = { uri: match[1]! };
    } else if (RENDITION_REPORT.test(line)) {
      // Read by m3u8-parser into renditionReports, which a media playlist's reader leaves alone.
    } else if (line === ENDLIST) {
      endList = true;
    } else {
      return undefined;
    }
  }
  const manifest = readHeader(lines, at, url);
  if (manifest === undefined) return undefined;
  manifest.segments = segments;
  if (endList) manifest.endList = true;
  if (pending.parts || pending.preloadHints) {
    const preload = { ...pending, timeline: 0 } as Segment;
    if (map) preload.map = map as Segment['map'];
    manifest.preloadSegment = preload;
  }
  return manifest;
}

/**
 * What m3u8-parser reads from the playlist-wide tags, by their text less the media sequence (the
 * one line that changes from reload to reload): the renditions of a stream, and of an origin,
 * mostly share one.
 */
const headers = new Map<string, Manifest>();
const HEADERS_KEPT = 64;

/** The manifest of the playlist-wide lines `lines[0, end)`, a new object each time. */
function readHeader(lines: string[], end: number, url: string): Manifest | undefined {
  let mediaSequence: number | undefined;
  let text = '';
  for (let i = 0; i < end; i++) {
    const line = lines[i]!;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      const match = MEDIA_SEQUENCE.exec(line);
      if (!match || mediaSequence !== undefined) return undefined;
      mediaSequence = Number.parseInt(match[1]!, 10);
    } else {
      text += line + '\n';
    }
  }
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
