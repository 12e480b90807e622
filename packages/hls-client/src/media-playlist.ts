import type { Manifest, Segment } from 'm3u8-parser';
import { hasMasterTags, normalizePlaylistText, runM3u8Parser } from './m3u8-text.js';
import { PlaylistParseError } from './playlist-parse-error.js';
import { readPlainManifest } from './plain-media-playlist.js';
import { playlistUriResolver } from './playlist-uris.js';
import { playlistTagLines, type SegmentTagLines } from './segment-tag-lines.js';

export interface ByteRange {
  length: number;
  offset: number;
}

export interface SegmentMap {
  uri: string;
  relativeUri: string;
  byterange?: ByteRange;
}

export interface SegmentKey {
  method: string;
  uri?: string;
  /** Hex text, `0x` + 32 digits. */
  iv?: string;
}

/** A part (EXT-X-PART) of a segment, numbered within its parent segment from 0. */
export class PartialSegment {
  msn: number;
  index: number;
  uri: string;
  relativeUri: string;
  duration: number;
  independent: boolean;
  byterange?: ByteRange;
  gap: boolean;

  constructor(init: {
    msn: number;
    index: number;
    uri: string;
    relativeUri: string;
    duration: number;
    independent: boolean;
    byterange?: ByteRange | undefined;
    gap: boolean;
  }) {
    this.msn = init.msn;
    this.index = init.index;
    this.uri = init.uri;
    this.relativeUri = init.relativeUri;
    this.duration = init.duration;
    this.independent = init.independent;
    if (init.byterange) this.byterange = init.byterange;
    this.gap = init.gap;
  }
}

/** A complete media segment (EXTINF + URI). */
export class MediaSegment {
  msn: number;
  uri: string;
  /** As written in the playlist. */
  relativeUri: string;
  duration: number;
  title?: string;
  discontinuity: boolean;
  /** The discontinuity sequence number this segment belongs to. */
  discontinuitySequence: number;
  /** EXT-X-PROGRAM-DATE-TIME as written (m3u8-parser's Date would lose the offset). */
  programDateTime?: string;
  map?: SegmentMap;
  byterange?: ByteRange;
  gap: boolean;
  key?: SegmentKey;
  /** The parts the playlist still lists for this segment (LL-HLS, near the live edge). */
  parts: PartialSegment[];
  /** The EXT-X-KEY lines in effect for this segment, as the origin wrote them. */
  keyLines: string[] = [];
  /** Tags before this segment that the model does not carry (DATERANGE, CUE-OUT...), as written. */
  tagLines: string[] = [];

  constructor(init: {
    msn: number;
    uri: string;
    relativeUri: string;
    duration: number;
    title?: string | undefined;
    discontinuity: boolean;
    discontinuitySequence: number;
    programDateTime?: string | undefined;
    map?: SegmentMap | undefined;
    byterange?: ByteRange | undefined;
    gap: boolean;
    key?: SegmentKey | undefined;
    parts: PartialSegment[];
  }) {
    this.msn = init.msn;
    this.uri = init.uri;
    this.relativeUri = init.relativeUri;
    this.duration = init.duration;
    if (init.title !== undefined) this.title = init.title;
    this.discontinuity = init.discontinuity;
    this.discontinuitySequence = init.discontinuitySequence;
    if (init.programDateTime !== undefined) this.programDateTime = init.programDateTime;
    if (init.map) this.map = init.map;
    if (init.byterange) this.byterange = init.byterange;
    this.gap = init.gap;
    if (init.key) this.key = init.key;
    this.parts = init.parts;
  }
}

export interface PlaylistChange {
  /** A new complete segment, ENDLIST newly seen, or the stream restarted. */
  advanced: boolean;
  /** Complete segments with msn > previous.endSn (all of them on a first load or restart). */
  newSegments: MediaSegment[];
  /** New parts appeared (in-progress segment grew) even if no segment completed. */
  partsAdvanced: boolean;
  /** Media sequence went backwards past everything previously listed (origin restarted the stream). */
  restarted: boolean;
}

/** One load of a media playlist (a rendition's "level details", in hls.js terms). */
export class RenditionDetails {
  url: string;
  version?: number;
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  /** Complete segments only, in order. */
  segments: MediaSegment[] = [];
  /** Parts of the in-progress segment (after the last complete one). */
  parts: PartialSegment[] = [];
  partTarget?: number;
  canBlockReload = false;
  partHoldBack?: number;
  holdBack?: number;
  canSkipUntil?: number;
  endList = false;
  independentSegments = false;
  playlistType?: 'EVENT' | 'VOD';
  iFramesOnly = false;
  /** Playlist-wide tags the model does not carry (EXT-X-START, EXT-X-DEFINE...), as written. */
  headerTags: string[] = [];
  preloadHint?: { type: 'PART' | 'MAP'; uri: string; relativeUri: string };

  constructor(
    url: string,
    targetDuration: number,
    mediaSequence: number,
    discontinuitySequence: number,
  ) {
    this.url = url;
    this.targetDuration = targetDuration;
    this.mediaSequence = mediaSequence;
    this.discontinuitySequence = discontinuitySequence;
  }

  get startSn(): number {
    return this.mediaSequence;
  }

  /** Msn of the last complete segment; startSn - 1 when there is none. */
  get endSn(): number {
    return this.mediaSequence + this.segments.length - 1;
  }

  get lowLatency(): boolean {
    return this.parts.length > 0 || this.segments.some((s) => s.parts.length > 0);
  }

  /**
   * `_HLS_msn` / `_HLS_part` asking for the next change. Per the LL-HLS spec the part after the
   * last listed one: the next part of the in-progress segment, else part 0 of the next segment.
   * Without parts, the next segment.
   */
  nextBlockingTarget(): { msn: number; part?: number } {
    const next = this.endSn + 1;
    if (this.parts.length > 0) return { msn: next, part: this.parts.length };
    if (this.lowLatency) return { msn: next, part: 0 };
    return { msn: next };
  }

  /** What this load brought compared with the previous one of the same rendition. */
  reloaded(previous: RenditionDetails | undefined): PlaylistChange {
    if (!previous) {
      return {
        advanced: true,
        newSegments: [...this.segments],
        partsAdvanced: this.parts.length > 0,
        restarted: false,
      };
    }
    // Everything behind the old window: a restarted stream, not a stale edge cache.
    if (this.segments.length > 0 && previous.segments.length > 0 && this.endSn < previous.startSn) {
      return {
        advanced: true,
        newSegments: [...this.segments],
        partsAdvanced: this.parts.length > 0,
        restarted: true,
      };
    }
    const newSegments = this.segments.filter((s) => s.msn > previous.endSn);
    const advanced = newSegments.length > 0 || (this.endList && !previous.endList);
    const partsAdvanced =
      newSegments.length > 0 ||
      (this.endSn === previous.endSn && this.parts.length > previous.parts.length);
    return { advanced, newSegments, partsAdvanced, restarted: false };
  }
}

/**
 * Parses a media playlist, resolving URIs against `url` (the playlist's final URL).
 * Throws PlaylistParseError on anything that is not a media playlist.
 */
export function parseMediaPlaylist(text: string, url: string): RenditionDetails {
  return parseMediaPlaylistWith(text, url, readManifest);
}

/** The plain shape of a live playlist read directly, anything else by m3u8-parser. */
function readManifest(normalized: string, url: string): Manifest {
  return readPlainManifest(normalized, url) ?? runM3u8Parser(normalized, url);
}

/** parseMediaPlaylist with the manifest read by `read` (the differential test compares readers). */
export function parseMediaPlaylistWith(
  text: string,
  url: string,
  read: (normalized: string, url: string) => Manifest,
): RenditionDetails {
  const normalized = normalizePlaylistText(text, url);
  if (hasMasterTags(normalized))
    throw new PlaylistParseError(url, 'is a master playlist, not a media playlist');
  if (!/^#EXT-X-TARGETDURATION:/m.test(normalized)) {
    throw new PlaylistParseError(url, 'has no #EXT-X-TARGETDURATION');
  }
  // Delta updates are only sent when asked for (_HLS_skip), which we never do.
  if (/^#EXT-X-SKIP:/m.test(normalized))
    throw new PlaylistParseError(url, 'is a delta update (EXT-X-SKIP)');

  const manifest = read(normalized, url);
  const targetDuration = manifest.targetDuration;
  // A zero target duration would turn the reload loop into a busy loop.
  if (targetDuration === undefined || !Number.isFinite(targetDuration) || targetDuration <= 0) {
    throw new PlaylistParseError(url, 'has an invalid #EXT-X-TARGETDURATION');
  }
  if (!isSequenceNumber(manifest.mediaSequence ?? 0))
    throw new PlaylistParseError(url, 'has an invalid #EXT-X-MEDIA-SEQUENCE');
  const details = new RenditionDetails(
    url,
    targetDuration,
    manifest.mediaSequence ?? 0,
    manifest.discontinuitySequence ?? 0,
  );
  if (manifest.version !== undefined) details.version = manifest.version;
  details.endList = manifest.endList === true;
  details.independentSegments = manifest.independentSegments === true;
  if (manifest.playlistType === 'EVENT' || manifest.playlistType === 'VOD')
    details.playlistType = manifest.playlistType;
  applyServerControl(details, manifest);

  details.iFramesOnly = /^#EXT-X-I-FRAMES-ONLY\b/m.test(normalized);
  const tagLines = playlistTagLines(normalized);
  details.headerTags = tagLines.header;
  const resolve = playlistUriResolver(url);
  details.segments = manifest.segments.map((segment, i) =>
    withTagLines(toMediaSegment(segment, details.mediaSequence + i, resolve), tagLines.segments[i]),
  );
  const pending = manifest.preloadSegment;
  if (pending) {
    const msn = details.endSn + 1;
    details.parts = toParts(pending.parts, msn, resolve);
    const hints = (pending.preloadHints ?? []) as { type?: unknown; uri?: unknown }[];
    // The PART hint is the one a blocking client can prefetch; a MAP hint is kept if alone.
    const hint = hints.find((h) => h.type === 'PART') ?? hints.find((h) => h.type === 'MAP');
    if (hint && (hint.type === 'PART' || hint.type === 'MAP') && typeof hint.uri === 'string') {
      details.preloadHint = {
        type: hint.type,
        uri: resolve(hint.uri),
        relativeUri: hint.uri,
      };
    }
  }
  return details;
}

function applyServerControl(details: RenditionDetails, manifest: Manifest): void {
  const control = manifest.serverControl as Record<string, unknown> | undefined;
  if (control) {
    details.canBlockReload = control['canBlockReload'] === true;
    const partHoldBack = finiteNumber(control['partHoldBack']);
    if (partHoldBack !== undefined) details.partHoldBack = partHoldBack;
    // m3u8-parser fills in the spec default (3 x target duration) when HOLD-BACK is absent.
    const holdBack = finiteNumber(control['holdBack']);
    if (holdBack !== undefined) details.holdBack = holdBack;
    const canSkipUntil = finiteNumber(control['canSkipUntil']);
    if (canSkipUntil !== undefined) details.canSkipUntil = canSkipUntil;
  }
  const partTarget = finiteNumber(manifest.partTargetDuration);
  if (partTarget !== undefined) details.partTarget = partTarget;
}

function toMediaSegment(
  segment: Segment,
  msn: number,
  resolve: (uri: string) => string,
): MediaSegment {
  const custom = (segment as { custom?: Record<string, unknown> }).custom;
  return new MediaSegment({
    msn,
    uri: resolve(segment.uri),
    relativeUri: segment.uri,
    duration: segment.duration,
    title: segment.title,
    discontinuity: segment.discontinuity === true,
    discontinuitySequence: segment.timeline ?? 0,
    programDateTime: segment.dateTimeString,
    map: segment.map
      ? {
          uri: resolve(segment.map.uri),
          relativeUri: segment.map.uri,
          ...(segment.map.byterange ? { byterange: { ...segment.map.byterange } } : {}),
        }
      : undefined,
    byterange: segment.byterange ? { ...segment.byterange } : undefined,
    gap: custom?.['gap'] !== undefined,
    key: segment.key ? toKey(segment.key, resolve) : undefined,
    parts: toParts(segment.parts, msn, resolve),
  });
}

function withTagLines(segment: MediaSegment, lines: SegmentTagLines | undefined): MediaSegment {
  if (lines) {
    segment.keyLines = lines.keys;
    segment.tagLines = lines.other;
  }
  return segment;
}

function toKey(key: NonNullable<Segment['key']>, resolve: (uri: string) => string): SegmentKey {
  const result: SegmentKey = { method: key.method };
  if (key.uri) result.uri = resolve(key.uri);
  if (key.iv)
    result.iv = '0x' + Array.from(key.iv, (word) => word.toString(16).padStart(8, '0')).join('');
  return result;
}

function toParts(
  parts: unknown[] | undefined,
  msn: number,
  resolve: (uri: string) => string,
): PartialSegment[] {
  return (parts ?? []).map((raw, index) => {
    const part = raw as {
      uri?: unknown;
      duration?: unknown;
      independent?: unknown;
      gap?: unknown;
      byterange?: unknown;
    };
    const relativeUri = typeof part.uri === 'string' ? part.uri : '';
    const byterange = part.byterange as Partial<ByteRange> | undefined;
    return new PartialSegment({
      msn,
      index,
      uri: relativeUri ? resolve(relativeUri) : '',
      relativeUri,
      duration: finiteNumber(part.duration) ?? 0,
      independent: part.independent === true,
      byterange:
        byterange && byterange.length !== undefined
          ? { length: byterange.length, offset: byterange.offset ?? 0 }
          : undefined,
      gap: part.gap === true,
    });
  });
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isSequenceNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
